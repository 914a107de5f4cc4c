import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** Largest GraphQL request body accepted; real queries are a few hundred bytes. */
export const MAX_GRAPHQL_BODY_BYTES = 64 * 1024;

/** What is wrong with a /graphql request's body before anything reads it, as the answer to give. */
interface BodyProblem {
  status: 411 | 413 | 415;
  message: string;
}

/**
 * Refuses bodies over the limit before anything reads them, bodies of unknown length, and anything but
 * JSON. Form and text bodies are what a page on another site can send without a preflight, so accepting
 * them would let such a page act with the browser's stored admin credentials. GET, HEAD and OPTIONS carry
 * no body and pass.
 */
export function graphqlBodyProblem(req: IncomingMessage): BodyProblem | undefined {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!['application/json', 'application/graphql-response+json', 'application/graphql+json'].includes(type)) {
    return {
      status: 415,
      message: `Content-Type ${req.headers['content-type'] || '(none)'} is not accepted: send application/json`,
    };
  }
  const length = Number(req.headers['content-length'] || Number.NaN);
  if (Number.isNaN(length)) return { status: 411, message: 'a Content-Length header is required' };
  if (length > MAX_GRAPHQL_BODY_BYTES) {
    return {
      status: 413,
      message: `request body of ${length} bytes is over the limit of ${MAX_GRAPHQL_BODY_BYTES}`,
    };
  }
  return undefined;
}

/** Reads a request body that graphqlBodyProblem has already bounded by its Content-Length. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON object, or undefined for anything else (invalid JSON, an array, a string). */
export function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text ?? '');
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** GraphQL-over-HTTP parameters of a GET: `query`, `variables` (JSON) and `operationName`. */
export function queryParams(search: URLSearchParams): Record<string, unknown> | undefined {
  const query = search.get('query');
  if (query === null) return undefined;
  const variables = search.get('variables');
  const parsedVariables = variables !== null ? parseJsonObject(variables) : undefined;
  if (variables !== null && parsedVariables === undefined) return undefined;
  return { query, variables: parsedVariables, operationName: search.get('operationName') ?? undefined };
}

/** A Node request's headers as Fetch headers, for a body that was already read and is passed as a string. */
export function fetchHeaders(headers: IncomingHttpHeaders): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') result.set(name, value);
    else if (Array.isArray(value)) result.set(name, value.join(', '));
  }
  // Its length is recomputed from the string.
  result.delete('content-length');
  result.delete('transfer-encoding');
  return result;
}
