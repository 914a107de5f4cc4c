/**
 * Every GraphQL operation the page sends, in one place. The page talks to the server only through these
 * (see graphql/type-defs.ts for the contract).
 */

export const WATCHLIST_QUERY = /* GraphQL */ `
  query Watchlist {
    watchlist {
      ticker
      companyName
      logoUrl
      high52Week
      low52Week
      latestPrice
      latestTime
      enabled
      previousClose {
        price
        sessionClose
        basis
        changeOfSessionClose
      }
    }
  }
`;

/**
 * `width` is the chart's width in CSS pixels: the server M4-reduces each series to at most 4 points a pixel,
 * and merges provider bars to at most one a pixel. Observed ticks and provider bars come apart, in one
 * round trip for the same window.
 */
export const PRICE_HISTORY_QUERY = /* GraphQL */ `
  query PriceHistory($tickers: [String!], $from: DateTime, $to: DateTime, $width: Int) {
    priceHistory(tickers: $tickers, from: $from, to: $to, width: $width) {
      ticker
      times
      prices
    }
    barHistory(tickers: $tickers, from: $from, to: $to, width: $width) {
      ticker
      intervalS
      times
      ends
      open
      high
      low
      close
      volume
      columnMs
    }
  }
`;

/**
 * One ticker's candles for the candle chart: `interval` is asked, and the answer's says which the server
 * used (coarser where `width` cannot hold that many candles). `volume` is null where the provider gave none.
 */
export const CANDLES_QUERY = /* GraphQL */ `
  query Candles($tickers: [String!], $interval: CandleInterval, $from: DateTime, $to: DateTime, $width: Int) {
    candles(tickers: $tickers, interval: $interval, from: $from, to: $to, width: $width) {
      ticker
      interval
      times
      open
      high
      low
      close
      ticks
      volume
    }
  }
`;

/** Subscribed without `tickers`, i.e. to every ticker, so that one added to the watchlist shows up live. */
export const TICKS_SUBSCRIPTION = /* GraphQL */ `
  subscription Ticks($tickers: [String!]) {
    ticks(tickers: $tickers) {
      ticker
      price
      time
    }
  }
`;

/** Whether this page may edit the watchlist, and how admin access works on the server. */
export const PERMISSIONS_QUERY = /* GraphQL */ `
  query Permissions {
    permissions {
      canEditWatchlist
      adminMode
    }
  }
`;

export const ADD_TO_WATCHLIST_MUTATION = /* GraphQL */ `
  mutation AddToWatchlist($ticker: String!) {
    addToWatchlist(ticker: $ticker) {
      ticker
      companyName
    }
  }
`;

export const REMOVE_FROM_WATCHLIST_MUTATION = /* GraphQL */ `
  mutation RemoveFromWatchlist($ticker: String!) {
    removeFromWatchlist(ticker: $ticker)
  }
`;

/** Whether prices are arriving, and the provider's reason when they are not (polled; see feed-status.ts). */
export const STATUS_QUERY = /* GraphQL */ `
  query Status {
    status {
      freshness {
        state
        reason
        ageSeconds
        lastGoodAt
      }
      tickers {
        ticker
        freshness {
          state
          reason
        }
      }
    }
  }
`;

/** What the provider's plan buys, whether it is answering, and how far history is filled; under the title. */
export const PROVIDER_STATUS_QUERY = /* GraphQL */ `
  query ProviderStatus {
    providerStatus {
      name
      plan
      priceEveryMs
      circuit
      nextProbeAt
      stream
    }
    historyFill {
      filling
      percent
      unavailable
    }
    market {
      open
      followsCalendar
      nextOpen
      lastClose
    }
  }
`;

const ALERT_FIRING_FIELDS = /* GraphQL */ `
  id
  ruleId
  ticker
  kind
  price
  time
  message
`;

/** The log of firings over the chart's window: the markers on the chart and the list under it. */
export const ALERT_FIRINGS_QUERY = /* GraphQL */ `
  query AlertFirings($from: DateTime, $to: DateTime) {
    alertFirings(from: $from, to: $to, limit: 1000) {
      ${ALERT_FIRING_FIELDS}
    }
  }
`;

/** Firings as they happen, for every ticker. */
export const ALERTS_SUBSCRIPTION = /* GraphQL */ `
  subscription Alerts {
    alerts {
      ${ALERT_FIRING_FIELDS}
    }
  }
`;

const ALERT_RULE_FIELDS = /* GraphQL */ `
  id
  ticker
  kind
  threshold
  windowMinutes
  cooldownSeconds
  paused
  armed
`;

export const ALERT_RULES_QUERY = /* GraphQL */ `
  query AlertRules {
    alertRules {
      ${ALERT_RULE_FIELDS}
    }
  }
`;

export const CREATE_ALERT_RULE_MUTATION = /* GraphQL */ `
  mutation CreateAlertRule($input: AlertRuleInput!) {
    createAlertRule(input: $input) {
      ${ALERT_RULE_FIELDS}
    }
  }
`;

export const SET_ALERT_RULE_PAUSED_MUTATION = /* GraphQL */ `
  mutation SetAlertRulePaused($id: ID!, $paused: Boolean!) {
    setAlertRulePaused(id: $id, paused: $paused) {
      ${ALERT_RULE_FIELDS}
    }
  }
`;

export const DELETE_ALERT_RULE_MUTATION = /* GraphQL */ `
  mutation DeleteAlertRule($id: ID!) {
    deleteAlertRule(id: $id)
  }
`;
