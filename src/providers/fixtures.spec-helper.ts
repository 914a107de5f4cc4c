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
