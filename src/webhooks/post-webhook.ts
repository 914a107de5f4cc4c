import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** The target refused before anything was sent: an address it may not reach (SSRF), or a URL it may not use. */
export class WebhookRefusedError extends Error {
  override name = 'WebhookRefusedError';
}

/** The request went out and did not succeed: an HTTP status, a timeout, a connection error. */
export class WebhookFailedError extends Error {
  override name = 'WebhookFailedError';
  constructor(
    message: string,
    /** The receiver's status, when it answered; a 4xx other than 408 and 429 will not change on a retry. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export type PostWebhook = (request: WebhookRequest) => Promise<{ status: number }>;

/**
 * Why an address may not be a webhook target, or undefined when it may: only public unicast addresses,
 * unless `allowPrivate` (ALERT_WEBHOOK_ALLOW_PRIVATE). The worker runs beside Postgres, Redis and perhaps
 * a cloud metadata service (169.254.169.254), so a webhook URL must not reach them. IPv4-mapped IPv6
 * addresses are judged as the IPv4 address they carry. The ranges are ipaddr.js's (RFC 6890 and friends).
 */
export function refusedAddress(address: string, allowPrivate: boolean): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const range = ipaddr.process(address).range();
  if (range === 'unicast' || allowPrivate) return undefined;
  return `${address} is a ${range} address (set ALERT_WEBHOOK_ALLOW_PRIVATE=true to allow private targets)`;
}

/**
 * POSTs a webhook with the SSRF rule applied where it counts: to the address the connection is actually
 * made to. A host name is resolved by our own lookup, which refuses the connection when any address it
 * resolves to is not allowed (so a name that resolves to 127.0.0.1, or a DNS answer changed between a
 * check and the connect, gets nowhere); an IP literal is judged before connecting. Redirects are not
 * followed (a 3xx is a failure), so a receiver cannot send us elsewhere. The body read is bounded.
 */
export function createWebhookPoster(options: { allowPrivate: boolean; timeoutMs: number }): PostWebhook {
  const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.map((a) => refusedAddress(a.address, options.allowPrivate)).find(Boolean);
      if (refused) return callback(new WebhookRefusedError(`${hostname}: ${refused}`), '', 0);
      if (lookupOptions.all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };

  return (request) =>
    new Promise((resolve, reject) => {
      const url = new URL(request.url);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (ipaddr.isValid(host)) {
        const refused = refusedAddress(host, options.allowPrivate);
        if (refused) return reject(new WebhookRefusedError(refused));
      }
      const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
      if (!client) return reject(new WebhookRefusedError(`${url.protocol} is not http or https`));
      const req = client.request(
        url,
        {
          method: 'POST',
          headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
          lookup: guardedLookup,
          timeout: options.timeoutMs,
          // One connection per delivery: nothing pooled outlives the SSRF check it was made under.
          agent: false,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > 64 * 1024) res.destroy();
          });
          res.on('error', () => {});
          res.on('close', () => {
            if (status >= 200 && status < 300) resolve({ status });
            else reject(new WebhookFailedError(`HTTP ${status} from ${url.host}`, status));
          });
        },
      );
      req.on('timeout', () =>
        req.destroy(new WebhookFailedError(`no answer from ${url.host} within ${options.timeoutMs} ms`)),
      );
      req.on('error', (error) =>
        reject(
          error instanceof WebhookRefusedError || error instanceof WebhookFailedError
            ? error
            : new WebhookFailedError(`${url.host}: ${error.message}`),
        ),
      );
      req.end(request.body);
    });
}
