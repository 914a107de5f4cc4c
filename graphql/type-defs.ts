/**
 * The public GraphQL contract. The chart page, GraphiQL users and the tests all speak this; change it
 * additively.
 */
export const typeDefs = /* GraphQL */ `
  """
  An instant, as an ISO-8601 string in UTC (e.g. "2026-11-30T14:05:00.000Z").
  """
  scalar DateTime

  "A watched ticker with what we know about it."
  type Stock {
    ticker: String!
    companyName: String
    "Where this server serves the logo: /logos/{TICKER} (the provider's image) or /logos/{TICKER}.svg."
    logoUrl: String
    "52-week high in dollars, as last fetched from the provider."
    high52Week: Float
    "52-week low in dollars, as last fetched from the provider."
    low52Week: Float
    "The most recent stored price in dollars."
    latestPrice: Float
    latestTime: DateTime
    enabled: Boolean!
    addedAt: DateTime!
    """
    Why the market-data provider refused this ticker (it does not know it), or null when it is fetched
    normally. Prices are not requested for it until a later 52-week check finds it.
    """
    unknownReason: String
    "When the provider first refused it."
    unknownSince: DateTime
    "How fresh this ticker's prices are: the last good price and the last fetch's outcome."
    freshness: Freshness!
    """
    The close a change "since the previous close" is measured from (see PreviousClose.basis), from the US
    exchanges' calendar and the prices stored; null when none was stored in the week before that close.
    """
    previousClose: PreviousClose
  }

  """
  What a change since the previous close means now: SINCE_CLOSE while a session is under way (and always
  for a market that trades around the clock, the simulated one unless MARKET_CALENDAR=follow): the latest
  price against the last session's close. SESSION while the exchanges are closed after a session: that
  session's change, its close (the latest price) against the close before it.
  """
  enum CloseBasis {
    SINCE_CLOSE
    SESSION
  }

  "Where a stored price came from: an OBSERVED tick, or the close of a provider BAR."
  enum PriceSource {
    OBSERVED
    BAR
  }

  "A close to measure a change from: the last price stored at or before a session's close."
  type PreviousClose {
    "In dollars."
    price: Float!
    "When that price was stored: a tick's time, or when the bar ends."
    time: DateTime!
    source: PriceSource!
    "The exchange close it stands for (16:00 New York time, 13:00 on early closes)."
    sessionClose: DateTime!
    basis: CloseBasis!
    "With SESSION: the close of the session whose change it is (the last one that ended); null otherwise."
    changeOfSessionClose: DateTime
  }

  """
  How fresh prices are, for one ticker or the whole deployment. state is LIVE while a good price came
  within staleAfterSeconds (see Query.status); otherwise PROVIDER_ERROR when the provider's last answer was
  a fault (reason has its words), STALE when it was not (workers stopped, the database refused the write),
  PENDING before any fetch.
  """
  type Freshness {
    state: FreshnessState!
    "When the last good price was fetched and stored."
    lastGoodAt: DateTime
    lastOutcome: FetchOutcome
    "Why it is not LIVE, with the provider's reason; null when LIVE."
    reason: String
    "Seconds since lastGoodAt; null when no good price ever came."
    ageSeconds: Float
  }

  enum FreshnessState {
    LIVE
    STALE
    PROVIDER_ERROR
    PENDING
  }

  "What the last price fetch came to."
  enum FetchOutcome {
    OK
    PROVIDER_ERROR
    RATE_LIMITED
    UNKNOWN_SYMBOL
  }

  "The deployment's price feed as a whole: live when any watched ticker got a good price recently."
  type DeploymentStatus {
    "The market-data provider (PROVIDER)."
    provider: String!
    priceIntervalMs: Float!
    "How long without a good price before the feed is no longer LIVE."
    staleAfterSeconds: Float!
    freshness: Freshness!
    "Each watched ticker that has been fetched at least once, with its freshness."
    tickers: [TickerFreshness!]!
  }

  type TickerFreshness {
    ticker: String!
    freshness: Freshness!
  }

  "One stored price observation."
  type Tick {
    ticker: String!
    price: Float!
    time: DateTime!
  }

  """
  A ticker's prices over a window, columnar to keep the answer small: times[i] (milliseconds since the Unix
  epoch) goes with prices[i] (dollars). Ascending by time.
  """
  type PriceSeries {
    ticker: String!
    times: [Float!]!
    prices: [Float!]!
    "Width of one pixel column of the reduction, in milliseconds."
    columnMs: Float!
    "What was reduced: RAW ticks, or the per-MINUTE rollup (the window then snaps outward to whole minutes)."
    source: HistorySource!
  }

  enum HistorySource {
    RAW
    MINUTE
  }

  type Health {
    postgres: Boolean!
    redis: Boolean!
  }

  type Query {
    "Every ticker on the watchlist, in the order it was added."
    watchlist: [Stock!]!
    "One ticker, or null when it is not on the watchlist."
    stock(ticker: String!): Stock
    """
    Price history for the given tickers (all watched tickers when omitted) between from (default: 7 days
    before to) and to (default: now), reduced for a chart width pixels wide (10 to 5000, default 1200):
    per pixel column at most four points, its first, last, lowest and highest (M4), which draws the same
    line as every stored tick.
    """
    priceHistory(tickers: [String!], from: DateTime, to: DateTime, width: Int = 1200): [PriceSeries!]!
    "What this request may do."
    permissions: Permissions!
    "Whether prices are arriving: the deployment's freshness, with the provider's reason when they are not."
    status: DeploymentStatus!
    "The market-data provider: what its request plan buys and whether it is answering."
    providerStatus: ProviderStatus!
    "Price alert rules, oldest first, first (1 to 1000, default 1000) after the rule with id after. Needs admin rights."
    alertRules(first: Int = 1000, after: ID): [AlertRule!]!
    """
    The log of alert firings, newest first: for the given tickers (all when omitted) whose firing tick lies
    between from (default: 7 days before to) and to (default: now); at most limit (1 to 1000, default 200).
    """
    alertFirings(tickers: [String!], from: DateTime, to: DateTime, limit: Int = 200): [AlertFiring!]!
    "How far the history backfill (first start, added tickers) and the gap repair have come."
    historyFill: HistoryFill!
    "Whether the US exchanges are in session now, and when they next open."
    market: Market!
    """
    Provider bars of one ticker between from (default: 7 days before to) and to (default: now), as the
    history jobs stored them: what a provider answered for whole intervals, kept apart from observed ticks.
    At most 50,000 bars (the first ones of the window).
    """
    priceBars(ticker: String!, from: DateTime, to: DateTime): BarSeries!
    """
    Provider bars of the given tickers (all watched tickers when omitted) between from (default: 7 days
    before to) and to (default: now), merged per pixel column of a chart width pixels wide (10 to 5000,
    default 1200): at most one bar a column, its first open, highest high, lowest low, last close and
    summed volume. What came as a bar, kept apart from priceHistory's observed ticks; tickers without bars
    in the window are left out.
    """
    barHistory(tickers: [String!], from: DateTime, to: DateTime, width: Int = 1200): [BarSeries!]!
    """
    OHLC candles of the observed prices (all tickers on the watchlist when tickers is omitted) from the
    minute rollup, which is kept for ever, and of the provider's bars where no price was observed: interval long (default M1), made coarser where the window would
    hold more than width candles; the answer says which interval it used. Candles lie on the interval's
    grid in UTC; from defaults to 7 days before to, to to now; a window spans at most 366 days.
    """
    candles(
      tickers: [String!]
      interval: CandleInterval
      from: DateTime
      to: DateTime
      width: Int = 1200
    ): [CandleSeries!]!
  }

  "A candle's length: M1 a minute, M5, M15, H1 an hour, D1 a UTC day."
  enum CandleInterval {
    M1
    M5
    M15
    H1
    D1
  }

  "One ticker's candles, columnar: times[i] (the candle's start, ms since the epoch) with open[i], high[i], low[i], close[i]."
  type CandleSeries {
    ticker: String!
    interval: CandleInterval!
    times: [Float!]!
    open: [Float!]!
    high: [Float!]!
    low: [Float!]!
    close: [Float!]!
    "How many observed ticks each candle summarises; 0 for a candle made of provider bars alone (no tick observed there)."
    ticks: [Int!]!
    """
    Shares traded in each candle, summed from the provider's bars (stock_bars); null where the provider gave
    none, or its bars do not span the candle's observed minutes. Observed ticks carry no volume, and the
    simulated market has none: its candles' volume is all null.
    """
    volume: [Float]!
  }

  """
  What a price alert watches for: ABOVE / BELOW a price (threshold in dollars); MOVE_PERCENT, a move of
  threshold percent (signed: 5 up, -5 down) against the price windowMinutes earlier; a new 52-week
  HIGH_52_WEEK or LOW_52_WEEK (against the stored range); STALE, no price stored for windowMinutes.
  """
  enum AlertKind {
    ABOVE
    BELOW
    MOVE_PERCENT
    HIGH_52_WEEK
    LOW_52_WEEK
    STALE
  }

  """
  A price alert rule. It fires once when its condition becomes true, and re-arms when the condition is false
  again; after a firing it stays quiet for cooldownSeconds (of tick time).
  """
  type AlertRule {
    id: ID!
    ticker: String!
    kind: AlertKind!
    threshold: Float
    windowMinutes: Int
    cooldownSeconds: Int!
    paused: Boolean!
    "False after it fired, until its condition is false again."
    armed: Boolean!
    lastFiredAt: DateTime
    createdAt: DateTime!
  }

  input AlertRuleInput {
    ticker: String!
    kind: AlertKind!
    "Dollars for ABOVE and BELOW, a signed percentage for MOVE_PERCENT; none for the 52-week kinds."
    threshold: Float
    "MOVE_PERCENT and STALE only: 5 to 1440 minutes."
    windowMinutes: Int
    "0 to 604800 seconds; default 0."
    cooldownSeconds: Int
  }

  "One firing of a rule, with the stored tick that fired it."
  type AlertFiring {
    id: ID!
    ruleId: ID!
    ticker: String!
    kind: AlertKind!
    threshold: Float
    windowMinutes: Int
    "The price that fired it, in dollars, and that tick's time."
    price: Float!
    time: DateTime!
    "One line for a person: what happened, at what price."
    message: String!
  }

  """
  A ticker's provider bars, columnar: times[i] (the bar's start, milliseconds since the Unix epoch) goes
  with ends[i] (its end), open[i], high[i], low[i], close[i] (dollars) and volume[i] (shares; null where the provider gives
  none). Ascending by time.
  """
  type BarSeries {
    ticker: String!
    "Length of each bar in seconds (60 for minute bars); null when there are none."
    intervalS: Int
    times: [Float!]!
    "When each bar ends (a merged bar of barHistory: when the last bar in it ends)."
    ends: [Float!]!
    open: [Float!]!
    high: [Float!]!
    low: [Float!]!
    close: [Float!]!
    volume: [Float]!
    "barHistory: the width of one column of the merge, in milliseconds; null from priceBars."
    columnMs: Float
  }

  """
  The US exchanges' regular session (weekdays 9:30–16:00 New York time, less holidays and early closes).
  When followsCalendar is true (MARKET_CALENDAR), prices are asked for only while open is true.
  """
  type Market {
    open: Boolean!
    followsCalendar: Boolean!
    "The next session's open (after the one under way, if any)."
    nextOpen: DateTime
    "The close of the last session that has ended: the previous close."
    lastClose: DateTime
  }

  """
  The history jobs' progress: the spans (up to a day of one ticker each) planned in the current round and
  how many are stored. A round ends when its last span is stored; then filling is false and percent 100.
  """
  type HistoryFill {
    filling: Boolean!
    "Whole percent of the round's spans stored (100 when nothing is being filled)."
    percent: Int!
    spansDone: Int!
    spansPlanned: Int!
    "Tickers with a span still to fill."
    tickers: [String!]!
    "Why this provider fills no history (e.g. Finnhub's candles are paid-only); null when it does."
    unavailable: String
  }

  "A provider's circuit: CLOSED (asked as planned), OPEN (failing, not asked), HALF_OPEN (one probe out)."
  enum CircuitState {
    CLOSED
    OPEN
    HALF_OPEN
  }

  type ProviderStatus {
    "The PROVIDER name."
    name: String!
    "One line saying what the request plan buys; null without a request budget (the simulation)."
    plan: String
    "How often each ticker gets a price under the plan, in milliseconds; the chart's cadence. Null without a plan."
    priceEveryMs: Int
    circuit: CircuitState!
    "Failures in a row (5xx, unreachable, timed out)."
    consecutiveFailures: Int!
    "When an open circuit lets its next probe through."
    nextProbeAt: DateTime
    "Where prices come from a trade stream (FINNHUB_STREAM_URL): its state; OFF otherwise."
    stream: StreamState!
  }

  "A trade stream: CONNECTED (prices from it), CONNECTING, DOWN (prices over REST meanwhile) or OFF."
  enum StreamState {
    CONNECTED
    CONNECTING
    DOWN
    OFF
  }

  "What the current request may do; the page shows the watchlist editor only when canEditWatchlist is true."
  type Permissions {
    canEditWatchlist: Boolean!
    """
    How admin access works on this server: PASSWORD (send ADMIN_PASSWORD as HTTP Basic or a Bearer token),
    LOOPBACK (no password set; open to direct requests from the server's own machine), or DISABLED.
    """
    adminMode: AdminMode!
  }

  enum AdminMode {
    PASSWORD
    LOOPBACK
    DISABLED
  }

  type Mutation {
    """
    Adds a ticker to the watchlist (or puts a removed one back); its logo and 52-week range are fetched
    straight away and its prices from the next price job on. Needs admin rights.
    """
    addToWatchlist(ticker: String!): Stock!
    "Takes a ticker off the watchlist; its stored history is kept. Needs admin rights."
    removeFromWatchlist(ticker: String!): Boolean!
    "Creates a price alert rule, armed. Needs admin rights."
    createAlertRule(input: AlertRuleInput!): AlertRule!
    "Pauses (or resumes) a rule; a paused rule is not evaluated. Needs admin rights."
    setAlertRulePaused(id: ID!, paused: Boolean!): AlertRule!
    "Deletes a rule; its firings stay in the log. Needs admin rights."
    deleteAlertRule(id: ID!): Boolean!
  }

  type Subscription {
    """
    New ticks as they are stored, one list per fetch (all tickers of that fetch that pass the filter).
    tickers limits the stream to those tickers; omitted means all.
    """
    ticks(tickers: [String!]): [Tick!]!
    "Alert firings as they happen, one list per evaluation (tickers limits them to those tickers; omitted means all)."
    alerts(tickers: [String!]): [AlertFiring!]!
  }
`;
