import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProviderHttp } from './http.ts';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/providers');

/** A documented answer from test/fixtures/providers, for the parsing specs. */
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as T;
}

/** An HTTP client that is never asked to send: the parsers only use it to word their errors. */
export function parserHttp(provider: string) {
  return createProviderHttp({
    provider,
    baseUrl: 'http://127.0.0.1:9',
    timeoutMs: 1000,
    secrets: ['sekrit'],
  });
}

export const NOW = new Date('2026-11-30T15:00:00.000Z');

/** A fixture file's bytes (a logo image). */
export function fixtureBytes(name: string): Buffer {
  return readFileSync(path.join(FIXTURES, name));
}

/**
 * A stand-in for fetch that answers from `answer` and records every URL asked for (with the headers sent),
 * for specs that drive a provider file end to end without a network.
 */
export function fakeFetch(answer: (url: URL, init?: RequestInit) => Response | Promise<Response>) {
  const requests: { url: URL; headers: Headers }[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    requests.push({ url, headers: new Headers(init?.headers) });
    return answer(url, init);
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

/** A JSON answer, as a provider sends it. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** A binary answer (an image, or something pretending to be one). */
export function bytes(body: Buffer | string, contentType: string, status = 200): Response {
  return new Response(typeof body === 'string' ? body : new Uint8Array(body), {
    status,
    headers: { 'content-type': contentType },
  });
}
