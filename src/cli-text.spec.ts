import type os from 'node:os';
import { describe, expect, it } from 'vitest';
import { banner, reachableBaseUrls } from './cli-text.ts';
import { loadConfig } from './config.ts';

const INTERFACES: ReturnType<typeof os.networkInterfaces> = {
  lo: [
    { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '', internal: true, cidr: null },
    { address: '::1', netmask: '', family: 'IPv6', mac: '', internal: true, cidr: null, scopeid: 0 },
  ],
  eth0: [
    { address: '10.0.0.5', netmask: '255.255.255.0', family: 'IPv4', mac: '', internal: false, cidr: null },
    { address: 'fe80::1', netmask: '', family: 'IPv6', mac: '', internal: false, cidr: null, scopeid: 2 },
    { address: '2001:db8::5', netmask: '', family: 'IPv6', mac: '', internal: false, cidr: null, scopeid: 0 },
  ],
};

describe('reachableBaseUrls', () => {
  it.each([
    ['127.0.0.1', ['http://127.0.0.1:4000']],
    ['localhost', ['http://localhost:4000']],
    ['::1', ['http://[::1]:4000']],
    ['0.0.0.0', ['http://127.0.0.1:4000', 'http://10.0.0.5:4000']],
    ['::', ['http://127.0.0.1:4000', 'http://10.0.0.5:4000', 'http://[2001:db8::5]:4000']],
  ])('HOST=%s is reached at %j', (host, expected) => {
    expect(reachableBaseUrls(host, 4000, INTERFACES)).toEqual(expected);
  });
});

describe('banner', () => {
  const running = {
    url: 'http://0.0.0.0:4100',
    workers: undefined,
    workerPid: () => 4242,
    metricsUrl: 'http://127.0.0.1:9463/metrics',
  };
  const render = (env: Record<string, string>, adminMode: 'password' | 'loopback' | 'disabled') =>
    banner({
      command: 'start',
      config: loadConfig(env),
      running: { ...running, adminMode },
      backends: ['database  postgres://…', 'redis     redis://…'],
      readyMs: 1234,
      interfaces: INTERFACES,
    });

  it('lists every URL at an address that reaches the server, the admin mode and the worker process', () => {
    const text = render({ HOST: '0.0.0.0', PORT: '4100' }, 'disabled');
    for (const url of ['/', '/graphql', '/admin/queues', '/healthz', '/metrics']) {
      expect(text).toMatch(new RegExp(`http://127\\.0\\.0\\.1:4100${url}( \\(admin\\))?\\n`));
    }
    expect(text).not.toContain('0.0.0.0');
    expect(text).toContain('also at     http://10.0.0.5:4100/');
    expect(text).toMatch(/admin +disabled: HOST is not a loopback address and ADMIN_PASSWORD is unset/);
    expect(text).toContain('(worker process 4242)');
    expect(text).toContain('metrics     http://127.0.0.1:9463/metrics (METRICS_PORT');
  });

  it.each([
    ['password', /admin +with ADMIN_PASSWORD/],
    ['loopback', /admin +from this machine only, no password/],
  ] as const)('says when admin is %s', (mode, pattern) => {
    expect(render({}, mode)).toMatch(pattern);
  });
});
