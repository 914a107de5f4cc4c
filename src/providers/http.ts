import { setTimeout as sleep } from 'node:timers/promises';
import {
  CircuitOpenError,
  type FetchOptions,
  InvalidProviderResponseError,
  ProviderAuthError,
  ProviderConfigError,
  ProviderError,
  ProviderRateLimitedError,
  ProviderTimeoutError,
  ProviderUnavailableError,
} from './provider.ts';

/**
 * The one way providers talk HTTP: budget first, a timeout per request, and every upstream fault turned into
 * a named error that says which provider, which endpoint, and what it answered (a short excerpt, with the
 * key cut out). Nothing here knows a provider's JSON; each provider file validates its own shapes.
 */
export interface ProviderHttpOptions {
  provider: string;
  baseUrl: string;
  timeoutMs: number;
  headers?: Record<string, string>;
  /** Sent with every request; for Alpha Vantage, whose key can only travel in the query string. */
  query?: Record<string, string>;
  /** Values never shown in an error message (the key, wherever the upstream might echo it). */
  secrets?: readonly string[];
  /** The variable that sets the base URL, named when an answer says the URL is wrong. */
  baseUrlVariable?: string;
  /** Wall-clock now, for `Retry-After` dates and reset timestamps. */
  now?: () => number;
  fetch?: typeof fetch;
  /** How a request waits for its turn in the budget; by default a timer. */
  sleep?: Sleep;
  /** Told how long each request sent upstream took (seconds, answered or not); `endpoint` is its label. */
  onRequest?: (endpoint: string, seconds: number) => void;
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface RequestOptions extends FetchOptions {
  /** What the request costs against the budget (Twelve Data: one credit per symbol in a batch). */
  weight?: number;
  /**
   * For endpoints with the symbol in the path: recognises the provider's own "no such symbol" answer to
   * an HTTP 404, which then comes back for the provider to interpret. Any other 404 (and every 404 of an
   * endpoint without one) means the path itself is not there: a ProviderConfigError.
   */
  isUnknownSymbol?: (body: unknown) => boolean;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: unknown;
  /** The raw text, for excerpts in error messages. */
  text: string;
}

export interface BytesResponse {
  status: number;
  contentType: string;
  bytes: Buffer;
}

export interface ProviderHttp {
  readonly provider: string;
  /**
   * GETs JSON. 429 throws ProviderRateLimitedError, 401/403 ProviderAuthError, 5xx and network failures
   * ProviderUnavailableError, a slow answer ProviderTimeoutError, a 404/405/410 ProviderConfigError
   * (unless `isUnknownSymbol` recognises it), and anything that is not JSON InvalidProviderResponseError.
   * Other statuses come back for the provider to interpret.
   */
  getJson(
    path: string,
    params?: Record<string, string>,
    options?: RequestOptions,
    endpoint?: string,
  ): Promise<JsonResponse>;
  /**
   * GETs an absolute URL's bytes (a logo image), at most `maxBytes`; same faults as getJson. With
   * `mayFollow`, a redirect is followed (at most a few hops) only to a URL it accepts, and one it refuses
   * is an InvalidProviderResponseError: the first URL was checked, so every hop must be. Without it,
   * redirects are followed as fetch does.
   */
  getBytes(
    url: string,
    maxBytes: number,
    options?: RequestOptions,
    mayFollow?: (url: URL) => boolean,
  ): Promise<BytesResponse>;
  /** A one-line, key-free excerpt of an answer, for error messages. */
  excerpt(text: string): string;
}

/** Caps what is read from one answer: a quote is a few hundred bytes, a year of daily bars ~40 KB. */
const MAX_BODY_BYTES = 2_000_000;
const EXCERPT_CHARS = 80;
/** How getBytes requests are labelled: a logo's path names the company, one label per ticker would pile up. */
const LOGO_ENDPOINT = 'logo';
/** Redirect hops getBytes follows itself when it checks each one. */
const MAX_REDIRECTS = 3;

export function createProviderHttp(options: ProviderHttpOptions): ProviderHttp {
  const { provider, timeoutMs } = options;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? fetch;
  const wait: Sleep = options.sleep ?? ((ms, signal) => sleep(ms, undefined, { signal }));
  const secrets = (options.secrets ?? []).filter((s) => s.length > 0);

  const excerpt = (text: string) => makeExcerpt(text, secrets);

  async function send(
    url: string,
    endpoint: string,
    requestOptions: RequestOptions,
    accept: string,
    redirect: RequestRedirect = 'follow',
    label = endpoint,
  ) {
    const { budget, signal, breaker } = requestOptions;
    const weight = requestOptions.weight ?? 1;
    if (breaker) {
      const waitMs = await breaker.admit();
      if (waitMs > 0) throw new CircuitOpenError(provider, waitMs);
    }
    if (budget) {
      const lane = requestOptions.lane ?? 'price';
      if (weight > budget.maxWeight(lane)) {
        throw new ProviderError(
          provider,
          `${endpoint} needs ${weight} requests of the budget at once but the ${lane} share of PROVIDER_BUDGET allows ${budget.maxWeight(lane)} per window`,
        );
      }
      // An extra request waits its turn (that is how names and logos are spread out); a price waits only
      // as long as its slot allows (a burst rule's few milliseconds), else the next slot asks again.
      const maxWait = requestOptions.maxBudgetWaitMs ?? 0;
      for (let waited = 0; ; ) {
        const waitMs = await budget.take(weight, lane);
        if (waitMs === 0) break;
        if (waited + waitMs > maxWait) {
          throw new ProviderRateLimitedError(
            provider,
            waitMs,
            `request budget's ${lane} share used up (${budget.max} per ${budget.windowMs} ms); ${endpoint} not sent, room again in ${waitMs} ms`,
            { source: 'budget' },
          );
        }
        await wait(waitMs, signal);
        waited += waitMs;
      }
    }
    signal?.throwIfAborted();
    const began = performance.now();
    try {
      return await fetchBody(url, endpoint, signal, accept, redirect, breaker);
    } finally {
      options.onRequest?.(label, (performance.now() - began) / 1000);
    }
  }

  async function fetchBody(
    url: string,
    endpoint: string,
    signal: AbortSignal | undefined,
    accept: string,
    redirect: RequestRedirect,
    breaker: RequestOptions['breaker'],
  ) {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const fail = (error: unknown): never => {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) {
        throw new ProviderTimeoutError(provider, `${endpoint} did not answer within ${timeoutMs} ms`);
      }
      const cause = error instanceof Error ? (error.cause instanceof Error ? error.cause : error) : undefined;
      throw new ProviderUnavailableError(
        provider,
        `${endpoint} could not be reached: ${cause?.message ?? String(error)}`,
        { cause: error },
      );
    };
    let response: Response;
    try {
      response = await doFetch(url, {
        headers: { accept, ...options.headers },
        signal: combined,
        redirect,
      });
    } catch (error) {
      if (!signal?.aborted) await breaker?.record(false);
      return fail(error);
    }
    // Any answer but a server fault proves the provider is up (a 404 or a 429 too).
    await breaker?.record(response.status < 500);
    const read = await readCapped(response, MAX_BODY_BYTES);
    if (read.error !== undefined) {
      if (signal?.aborted || timeout.aborted) return fail(read.error);
      if (read.tooLarge) {
        throw new InvalidProviderResponseError(
          provider,
          `${endpoint} answered more than ${MAX_BODY_BYTES} bytes: ${excerpt(read.bytes.toString('utf8'))}`,
        );
      }
      throw new InvalidProviderResponseError(
        provider,
        `${endpoint} answer was cut off after ${read.bytes.length} bytes (HTTP ${response.status}): ${excerpt(read.bytes.toString('utf8'))}`,
      );
    }
    return { response, bytes: read.bytes };
  }

  function checkStatus(
    endpoint: string,
    response: Response,
    text: string,
    isUnknownSymbol?: (body: unknown) => boolean,
  ): void {
    const status = response.status;
    if (status === 404 || status === 405 || status === 410) {
      if (isUnknownSymbol && status === 404 && isUnknownSymbol(parseJson(text))) return;
      const where = options.baseUrlVariable ? `; is ${options.baseUrlVariable}=${baseUrl} right?` : '';
      throw new ProviderConfigError(
        provider,
        `${endpoint} is not there: ${baseUrl} answered HTTP ${status} ${excerpt(text)}${where}`,
      );
    }
    if (status === 429) {
      throw new ProviderRateLimitedError(
        provider,
        retryAfterMs(response.headers, now()),
        `${endpoint} answered HTTP 429: ${excerpt(text)}`,
      );
    }
    if (status === 401 || status === 403) {
      throw new ProviderAuthError(
        provider,
        `${endpoint} refused the request (HTTP ${status}): ${excerpt(text)}`,
      );
    }
    if (status >= 500) {
      throw new ProviderUnavailableError(provider, `${endpoint} answered HTTP ${status}: ${excerpt(text)}`);
    }
  }

  return {
    provider,
    excerpt,

    async getJson(path, params = {}, requestOptions = {}, endpoint = path) {
      const url = new URL(`${baseUrl}${path}`);
      for (const [key, value] of Object.entries({ ...params, ...options.query })) {
        url.searchParams.set(key, value);
      }
      const { response, bytes } = await send(url.toString(), endpoint, requestOptions, 'application/json');
      const text = bytes.toString('utf8');
      checkStatus(endpoint, response, text, requestOptions.isUnknownSymbol);
      if (text.trim() === '') {
        throw new InvalidProviderResponseError(
          provider,
          `${endpoint} answered an empty body (HTTP ${response.status})`,
        );
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        const type = response.headers.get('content-type')?.split(';')[0] ?? 'no content type';
        throw new InvalidProviderResponseError(
          provider,
          `${endpoint} answered something that is not JSON (HTTP ${response.status}, ${type}): ${excerpt(text)}`,
        );
      }
      return { status: response.status, headers: response.headers, body, text };
    },

    async getBytes(url, maxBytes, requestOptions = {}, mayFollow) {
      let current = new URL(url);
      let endpoint = current.pathname;
      let answer = await send(
        current.toString(),
        endpoint,
        requestOptions,
        'image/*',
        mayFollow ? 'manual' : 'follow',
        LOGO_ENDPOINT,
      );
      for (let hop = 0; mayFollow && isRedirect(answer.response.status); hop++) {
        const location = answer.response.headers.get('location');
        const next = location ? parseUrl(location, current) : undefined;
        if (!next || hop >= MAX_REDIRECTS || !mayFollow(next)) {
          throw new InvalidProviderResponseError(
            provider,
            `${endpoint} redirected to ${next ? `${next.origin}${next.pathname}` : JSON.stringify(location)}, which is not followed`,
          );
        }
        current = next;
        endpoint = current.pathname;
        answer = await send(current.toString(), endpoint, requestOptions, 'image/*', 'manual', LOGO_ENDPOINT);
      }
      const { response, bytes } = answer;
      // An image that is not there is the image host's business, not a wrong base URL.
      if (response.status !== 404 && response.status !== 410) {
        checkStatus(endpoint, response, bytes.subarray(0, 200).toString('utf8'));
      }
      if (bytes.length > maxBytes) {
        throw new InvalidProviderResponseError(
          provider,
          `${endpoint} answered ${bytes.length} bytes, over ${maxBytes}`,
        );
      }
      return {
        status: response.status,
        contentType: response.headers.get('content-type')?.split(';')[0]?.trim() ?? '',
        bytes,
      };
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseUrl(text: string, base: URL): URL | undefined {
  try {
    return new URL(text, base);
  } catch {
    return undefined;
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** Reads a body up to a cap; a connection dropped mid-body returns what arrived, with the error. */
async function readCapped(
  response: Response,
  maxBytes: number,
): Promise<{ bytes: Buffer; error?: unknown; tooLarge?: boolean }> {
  const chunks: Buffer[] = [];
  if (!response.body) return { bytes: Buffer.alloc(0) };
  let size = 0;
  try {
    // Leaving the loop early cancels the stream, so an oversized answer is not downloaded to the end.
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      chunks.push(Buffer.from(chunk));
      if (size > maxBytes) break;
    }
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error };
  }
  if (size > maxBytes) return { bytes: Buffer.concat(chunks), error: new Error('too large'), tooLarge: true };
  return { bytes: Buffer.concat(chunks) };
}

/** A short, single-line, quoted excerpt with any secret cut out; what error messages show of an answer. */
export function makeExcerpt(text: string, secrets: readonly string[] = []): string {
  let clean = text.replace(/\s+/g, ' ').trim();
  for (const secret of secrets) clean = clean.split(secret).join('***');
  if (clean === '') return '(empty)';
  return JSON.stringify(clean.length > EXCERPT_CHARS ? `${clean.slice(0, EXCERPT_CHARS - 3)}...` : clean);
}

/**
 * How long a 429 asks us to wait: `Retry-After` in seconds or as an HTTP date, else a reset timestamp
 * (`X-RateLimit-Reset`, Unix seconds, as Finnhub sends). Undefined when the answer states no window.
 */
export function retryAfterMs(headers: Headers, nowMs: number): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.ceil(Number(retryAfter) * 1000);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - nowMs);
  }
  const reset = headers.get('x-ratelimit-reset')?.trim();
  if (reset && /^\d+(\.\d+)?$/.test(reset)) {
    const value = Number(reset);
    // Unix seconds (a reset instant) or, from some APIs, seconds to wait.
    const ms = value > 1_000_000_000 ? value * 1000 - nowMs : value * 1000;
    if (ms >= 0 && ms <= 86_400_000) return Math.ceil(ms);
  }
  return undefined;
}
