import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseBudget } from './config.ts';

describe('loadConfig', () => {
  it('gives a newcomer working defaults with nothing set', () => {
    const config = loadConfig({});
    expect(config.server).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(config.metrics).toEqual({ port: undefined });
    expect(config.database.url).toBeUndefined();
    expect(config.redis.url).toBeUndefined();
    expect(config.provider).toEqual({
      name: 'simulated',
      seed: 'stockstreamer',
      timeoutMs: 5000,
      apiKey: undefined,
      baseUrl: undefined,
      budget: undefined,
      concurrency: 4,
    });
    expect(config.symbols).toEqual(['GE', 'AMZN', 'NVDA', 'INTC', 'AAPL', 'NFLX']);
    expect(config.schedule).toEqual({
      priceIntervalMs: 5000,
      logoIntervalMs: 5_000_000,
      highlowIntervalMs: 5_000_000,
    });
    expect(config.dataDir).toBe(path.resolve('.data'));
    expect(config.logLevel).toBe('info');
  });

  it('reads every variable it is given', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://u:p@db:5432/stocks',
      REDIS_URL: 'redis://cache:6380/2',
      SYMBOLS: ' msft, brk.b ,MSFT ',
      PRICE_INTERVAL_MS: '1000',
      LOGO_INTERVAL_MS: '60000',
      HIGHLOW_INTERVAL_MS: '120000',
      DATA_DIR: '/var/lib/stockstreamer',
      LOG_LEVEL: 'debug',
      PROVIDER_TIMEOUT_MS: '2500',
      SIMULATED_SEED: 'abc',
      QUEUE_PREFIX: 'ss-test',
    });
    expect(config.server).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.database.url).toBe('postgres://u:p@db:5432/stocks');
    expect(config.redis.url).toBe('redis://cache:6380/2');
    expect(config.symbols).toEqual(['MSFT', 'BRK.B']);
    expect(config.schedule).toEqual({
      priceIntervalMs: 1000,
      logoIntervalMs: 60000,
      highlowIntervalMs: 120000,
    });
    expect(config.dataDir).toBe('/var/lib/stockstreamer');
    expect(config.provider).toMatchObject({ name: 'simulated', seed: 'abc', timeoutMs: 2500 });
    expect(config.queuePrefix).toBe('ss-test');
  });

  it('keeps raw ticks 30 days by default, or the days asked for, or for ever', () => {
    expect(loadConfig({}).history).toEqual({ backfillDays: 7, retainTicksDays: 30 });
    expect(loadConfig({ RETAIN_TICKS_DAYS: ' 7 ' }).history.retainTicksDays).toBe(7);
    expect(loadConfig({ RETAIN_TICKS_DAYS: 'forever', BACKFILL_DAYS: '3650' }).history).toEqual({
      backfillDays: 3650,
      retainTicksDays: 'forever',
    });
    expect(loadConfig({ RETAIN_TICKS_DAYS: '2', BACKFILL_DAYS: '2' }).history.retainTicksDays).toBe(2);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '  ' }).server.port).toBe(4000);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(Object.isFrozen(config.symbols)).toBe(true);
  });

  it.each([
    ['PORT', 'abc', /PORT="abc" is not valid: wanted a whole number from 0 to 65535/],
    ['PORT', '70000', /PORT="70000" .*0 to 65535/],
    ['PORT', '-1', /PORT="-1"/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL="mysql:\/\/x" .*postgres:\/\/ or postgresql:\/\//],
    ['DATABASE_URL', 'not a url', /DATABASE_URL=.*wanted a URL/],
    ['REDIS_URL', 'http://localhost', /REDIS_URL=.*redis:\/\/ or rediss:\/\//],
    ['PROVIDER', 'iex', /PROVIDER="iex" is not valid: wanted one of simulated, finnhub, twelvedata/],
    ['PROVIDER_BUDGET', '60 a minute', /PROVIDER_BUDGET="60 a minute" .*such as 60\/min/],
    ['PROVIDER_BUDGET', '0/min', /PROVIDER_BUDGET="0\/min"/],
    ['PROVIDER_CONCURRENCY', '0', /PROVIDER_CONCURRENCY="0" .*1 to 32/],
    ['FINNHUB_BASE_URL', 'ftp://x', /FINNHUB_BASE_URL="ftp:\/\/x" .*https:\/\/ or http:\/\//],
    ['SYMBOLS', 'AAPL,,$$$', /SYMBOLS=.*"\$\$\$" is not a ticker/],
    ['SYMBOLS', ' , ', /SYMBOLS=.*at least one ticker/],
    ['PRICE_INTERVAL_MS', '10', /PRICE_INTERVAL_MS="10" .*250 to 86400000/],
    ['PRICE_INTERVAL_MS', '5s', /PRICE_INTERVAL_MS="5s"/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud" .*one of fatal, error, warn, info, debug, trace, silent/],
    ['QUEUE_PREFIX', 'a:b', /QUEUE_PREFIX="a:b"/],
    ['METRICS_PORT', '9464x', /METRICS_PORT="9464x" is not valid: wanted a whole number from 0 to 65535/],
    [
      'RETAIN_TICKS_DAYS',
      '0',
      /RETAIN_TICKS_DAYS="0" is not valid: wanted a whole number of days from 1 to 3650, or forever/,
    ],
    ['RETAIN_TICKS_DAYS', '3651', /RETAIN_TICKS_DAYS="3651" .*1 to 3650, or forever/],
    ['RETAIN_TICKS_DAYS', 'always', /RETAIN_TICKS_DAYS="always" .*or forever/],
    ['RETAIN_TICKS_DAYS', '7.5', /RETAIN_TICKS_DAYS="7.5"/],
    ['RETAIN_TICKS_DAYS', '3', /BACKFILL_DAYS="7" is not valid: wanted at most RETAIN_TICKS_DAYS \(3\)/],
  ])('rejects %s=%s with one clear line', (name, value, message) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  describe('live providers', () => {
    it.each([
      ['finnhub', 'FINNHUB_API_KEY', 'https://finnhub.io/register'],
      ['twelvedata', 'TWELVEDATA_API_KEY', 'https://twelvedata.com/register'],
      ['alphavantage', 'ALPHAVANTAGE_API_KEY', 'alphavantage.co'],
      ['polygon', 'POLYGON_API_KEY', 'massive.com'],
    ])('PROVIDER=%s without its key stops start-up naming %s', (provider, variable, signup) => {
      expect(() => loadConfig({ PROVIDER: provider })).toThrow(ConfigError);
      expect(() => loadConfig({ PROVIDER: provider })).toThrow(
        new RegExp(
          `^${variable}=\\(unset\\) is not valid: wanted the API key that PROVIDER=${provider} needs`,
        ),
      );
      expect(() => loadConfig({ PROVIDER: provider })).toThrow(signup);
    });

    it('needs no key for yahoo, and uses each free tier’s defaults', () => {
      expect(loadConfig({ PROVIDER: 'yahoo' }).provider).toEqual({
        name: 'yahoo',
        seed: 'stockstreamer',
        timeoutMs: 5000,
        apiKey: undefined,
        baseUrl: 'https://query1.finance.yahoo.com',
        budget: { max: 100, windowMs: 60_000, text: '100/min' },
        concurrency: 4,
      });
      const av = loadConfig({ PROVIDER: 'alphavantage', ALPHAVANTAGE_API_KEY: 'demo-key' }).provider;
      expect(av).toMatchObject({
        apiKey: 'demo-key',
        baseUrl: 'https://www.alphavantage.co',
        budget: { max: 25, windowMs: 86_400_000 },
        concurrency: 1,
      });
    });

    it('takes the selected provider’s key, base URL, budget and concurrency from the environment', () => {
      const config = loadConfig({
        PROVIDER: 'finnhub',
        FINNHUB_API_KEY: ' abc123 ',
        FINNHUB_BASE_URL: 'http://127.0.0.1:9999/finnhub/api/v1/',
        TWELVEDATA_API_KEY: 'ignored-for-finnhub',
        PROVIDER_BUDGET: '10/2s',
        PROVIDER_CONCURRENCY: '2',
        PROVIDER_TIMEOUT_MS: '300',
      });
      expect(config.provider).toMatchObject({
        name: 'finnhub',
        apiKey: 'abc123',
        baseUrl: 'http://127.0.0.1:9999/finnhub/api/v1',
        budget: { max: 10, windowMs: 2000, text: '10/2s' },
        concurrency: 2,
        timeoutMs: 300,
      });
      expect(Object.isFrozen(config.provider.budget)).toBe(true);
      expect(loadConfig({ PROVIDER: 'yahoo', PROVIDER_BUDGET: 'off' }).provider.budget).toBeUndefined();
    });

    it('never prints a key in an error line', () => {
      let message = '';
      try {
        loadConfig({ PROVIDER: 'polygon', POLYGON_API_KEY: 'sec ret' });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^POLYGON_API_KEY=\(7 characters, not shown\) is not valid: wanted an API key/);
      expect(message).not.toContain('sec ret');
    });
  });

  it.each([
    ['60/min', { max: 60, windowMs: 60_000 }],
    ['8/minute', { max: 8, windowMs: 60_000 }],
    ['5 / s', { max: 5, windowMs: 1000 }],
    ['800/day', { max: 800, windowMs: 86_400_000 }],
    ['10/2s', { max: 10, windowMs: 2000 }],
    ['3/500ms', { max: 3, windowMs: 500 }],
    ['100/hours', { max: 100, windowMs: 3_600_000 }],
  ])('reads the budget %s', (text, wanted) => {
    expect(parseBudget(text)).toMatchObject(wanted);
  });

  it.each(['', '60', 'min', '60/fortnight', '0/s', '5/10ms', '1/30day'])('refuses the budget %j', (text) => {
    expect(parseBudget(text)).toBeUndefined();
  });
});

describe('loadConfig: security settings', () => {
  it('defaults to same-origin only, no password, and moderate limits', () => {
    expect(loadConfig({}).security).toEqual({
      adminPassword: undefined,
      allowedOrigins: [],
      rateLimitPerMinute: 600,
      maxSubscriptionsPerClient: 20,
      trustProxy: 0,
      allowedHosts: [],
      bullBoardWrite: false,
    });
  });

  it('reads origins, password, limits and proxy trust', () => {
    const config = loadConfig({
      ADMIN_PASSWORD: 'a long enough secret',
      ALLOWED_ORIGINS: 'https://a.example, http://localhost:5173/',
      RATE_LIMIT_PER_MINUTE: '60',
      MAX_SUBSCRIPTIONS_PER_CLIENT: '3',
      TRUST_PROXY: '1',
      ALLOWED_HOSTS: 'Stocks.Example.com, 203.0.113.7:8443,[::1]:4000',
      BULL_BOARD_WRITE: 'true',
    });
    expect(config.security).toEqual({
      adminPassword: 'a long enough secret',
      allowedOrigins: ['https://a.example', 'http://localhost:5173'],
      rateLimitPerMinute: 60,
      maxSubscriptionsPerClient: 3,
      trustProxy: 1,
      allowedHosts: ['stocks.example.com', '203.0.113.7:8443', '[::1]:4000'],
      bullBoardWrite: true,
    });
  });

  it.each([
    [
      'ADMIN_PASSWORD',
      'short',
      /ADMIN_PASSWORD=\(5 characters, not shown\) is not valid: wanted a password of at least 12/,
    ],
    ['ALLOWED_ORIGINS', 'https://a.example/path', /ALLOWED_ORIGINS=.*"https:\/\/a.example\/path" is not one/],
    ['ALLOWED_ORIGINS', '*', /ALLOWED_ORIGINS="\*"/],
    ['TRUST_PROXY', 'yes', /TRUST_PROXY="yes" is not valid: wanted the number of reverse proxies/],
    ['TRUST_PROXY', 'true', /TRUST_PROXY="true" is not valid: wanted .*0 \(none.*"true" is not a count/],
    [
      'ALLOWED_HOSTS',
      'https://stocks.example.com',
      /ALLOWED_HOSTS=.*"https:\/\/stocks.example.com" is not one/,
    ],
    ['BULL_BOARD_WRITE', 'yes', /BULL_BOARD_WRITE="yes" is not valid: wanted true or false/],
    ['RATE_LIMIT_PER_MINUTE', '0', /RATE_LIMIT_PER_MINUTE="0"/],
  ])('rejects %s=%s without echoing secrets', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('reads alert webhooks: preset=url pairs, a signing secret, private targets refused by default', () => {
    expect(loadConfig({}).webhooks).toEqual({
      targets: [],
      secret: undefined,
      allowPrivate: false,
      timeoutMs: 5000,
      attempts: 8,
      backoffMs: 2000,
    });
    const config = loadConfig({
      ALERT_WEBHOOKS:
        'json=https://hooks.example.com/a, slack=https://hooks.slack.com/services/T/B/X\nntfy=https://ntfy.sh/t',
      ALERT_WEBHOOK_SECRET: 'a-secret-of-16-chars',
      ALERT_WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    expect(config.webhooks.targets).toEqual([
      { preset: 'json', url: 'https://hooks.example.com/a' },
      { preset: 'slack', url: 'https://hooks.slack.com/services/T/B/X' },
      { preset: 'ntfy', url: 'https://ntfy.sh/t' },
    ]);
    expect(config.webhooks.allowPrivate).toBe(true);
  });

  it.each([
    ['ALERT_WEBHOOKS', 'https://hooks.example.com/a', /ALERT_WEBHOOKS=.*preset=url pairs/],
    ['ALERT_WEBHOOKS', 'teams=https://x.example/a', /the preset one of json, slack, discord, ntfy/],
    ['ALERT_WEBHOOKS', 'json=ftp://x.example/a', /http\(s\) without credentials/],
    ['ALERT_WEBHOOKS', 'json=https://u:p@x.example/a', /http\(s\) without credentials/],
    ['ALERT_WEBHOOK_SECRET', 'short', /ALERT_WEBHOOK_SECRET=\(5 characters, not shown\).*at least 16/],
  ])('refuses %s=%s', (name, value, message) => {
    expect(() => loadConfig({ ALERT_WEBHOOK_SECRET: 'a-secret-of-16-chars', [name]: value })).toThrow(
      message,
    );
  });

  it('wants a signing secret when webhooks are set', () => {
    expect(() => loadConfig({ ALERT_WEBHOOKS: 'json=https://x.example/a' })).toThrow(
      /ALERT_WEBHOOK_SECRET=\(unset\) is not valid: wanted the secret/,
    );
  });
});

describe('loadConfig: Redis Sentinel', () => {
  it('reads the sentinels, the master name and the passwords, with 26379 as the default port', () => {
    const config = loadConfig({
      REDIS_SENTINELS: ' 10.0.0.5:26380, sentinel-b ,[::1]:5000',
      REDIS_SENTINEL_MASTER: 'mymaster',
      REDIS_PASSWORD: 'primary-secret',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    });
    expect(config.redis).toEqual({
      url: undefined,
      sentinel: {
        sentinels: [
          { host: '10.0.0.5', port: 26380 },
          { host: 'sentinel-b', port: 26379 },
          { host: '::1', port: 5000 },
        ],
        masterName: 'mymaster',
        password: 'primary-secret',
        sentinelPassword: 'sentinel-secret',
      },
    });
  });

  it('has no sentinel without REDIS_SENTINELS', () => {
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379' }).redis.sentinel).toBeUndefined();
  });

  it.each([
    [
      { REDIS_SENTINELS: '10.0.0.5:26379' },
      /REDIS_SENTINEL_MASTER=\(unset\) is not valid: wanted the master name/,
    ],
    [
      { REDIS_SENTINELS: '10.0.0.5:99999', REDIS_SENTINEL_MASTER: 'm' },
      /REDIS_SENTINELS=.*is not valid: wanted comma-separated Sentinel addresses host:port.*"10.0.0.5:99999" is not one/,
    ],
    [
      { REDIS_SENTINELS: 'redis://10.0.0.5:26379', REDIS_SENTINEL_MASTER: 'm' },
      /"redis:\/\/10.0.0.5:26379" is not one/,
    ],
    [
      { REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_MASTER: 'm', REDIS_URL: 'redis://cache:6379' },
      /REDIS_URL="redis:\/\/cache:6379" is not valid: wanted REDIS_URL or REDIS_SENTINELS, not both/,
    ],
    [
      { REDIS_SENTINEL_MASTER: 'mymaster' },
      /REDIS_SENTINEL_MASTER="mymaster" is not valid: wanted it only with REDIS_SENTINELS/,
    ],
    [
      { REDIS_PASSWORD: 'hunter2hunter2' },
      /REDIS_PASSWORD=\(14 characters, not shown\) is not valid: wanted it only with REDIS_SENTINELS/,
    ],
    [
      { REDIS_SENTINELS: 'a', REDIS_SENTINEL_MASTER: 'my master' },
      /REDIS_SENTINEL_MASTER="my master" is not valid: wanted the master name the sentinels monitor/,
    ],
  ])('refuses %o with a line naming what is wrong', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
