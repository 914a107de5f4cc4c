import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('gives a newcomer working defaults with nothing set', () => {
    const config = loadConfig({});
    expect(config.server).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(config.database.url).toBeUndefined();
    expect(config.redis.url).toBeUndefined();
    expect(config.provider).toEqual({ name: 'simulated', seed: 'stockstreamer', timeoutMs: 5000 });
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
    expect(config.provider).toEqual({ name: 'simulated', seed: 'abc', timeoutMs: 2500 });
    expect(config.queuePrefix).toBe('ss-test');
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
    ['PROVIDER', 'iex', /PROVIDER="iex" is not valid: wanted one of simulated/],
    ['SYMBOLS', 'AAPL,,$$$', /SYMBOLS=.*"\$\$\$" is not a ticker/],
    ['SYMBOLS', ' , ', /SYMBOLS=.*at least one ticker/],
    ['PRICE_INTERVAL_MS', '10', /PRICE_INTERVAL_MS="10" .*250 to 86400000/],
    ['PRICE_INTERVAL_MS', '5s', /PRICE_INTERVAL_MS="5s"/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud" .*one of fatal, error, warn, info, debug, trace, silent/],
    ['QUEUE_PREFIX', 'a:b', /QUEUE_PREFIX="a:b"/],
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
});
