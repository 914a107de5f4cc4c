import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  type OperationTypeNode,
  print,
} from 'graphql';
import type { Logger } from 'pino';
import { parseWithinLimits, validateWithinLimits } from './limits.ts';

/** What a client asks for, from a GET query string, a JSON body or a graphql-ws `subscribe` payload. */
export interface GraphqlParams {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

/** A document that parsed and passed every validation rule, with the one operation to run. */
export interface PreparedOperation {
  document: DocumentNode;
  /** The document printed in its canonical form: equal for documents that differ only in layout. */
  printed: string;
  operationName: string | undefined;
  kind: OperationTypeNode;
  variables: Record<string, unknown>;
}

/**
 * Parses and validates a request with the same limits as Yoga (graphql/limits.ts), for the transports we
 * serve ourselves. Answers the operation, or the GraphQL errors a client should see.
 */
export function prepareOperation(
  schema: GraphQLSchema,
  params: GraphqlParams,
): { operation: PreparedOperation } | { errors: readonly GraphQLError[] } {
  if (typeof params.query !== 'string') return refusal('the request has no query document');
  const variables = params.variables ?? {};
  if (typeof variables !== 'object' || Array.isArray(variables)) {
    return refusal('variables must be a JSON object');
  }
  if (params.operationName !== undefined && params.operationName !== null) {
    if (typeof params.operationName !== 'string') return refusal('operationName must be a string');
  }
  const operationName = typeof params.operationName === 'string' ? params.operationName : undefined;
  const checked = checkDocument(schema, params.query);
  if ('errors' in checked) return checked;
  const { document, printed } = checked;
  const operation = getOperationAST(document, operationName);
  if (!operation) {
    return refusal(
      operationName
        ? `Unknown operation named "${operationName}".`
        : 'Must provide operation name if query contains multiple operations.',
    );
  }
  return {
    operation: {
      document,
      printed,
      operationName,
      kind: operation.operation,
      variables: variables as Record<string, unknown>,
    },
  };
}

/** Documents checked per schema, most recent last; see checkDocument. */
const checkedDocuments = new WeakMap<GraphQLSchema, Map<string, CheckedDocument>>();
type CheckedDocument = { document: DocumentNode; printed: string } | { errors: readonly GraphQLError[] };
/** Distinct documents remembered; each is a few KB, and a page asks the same few over and over. */
const MAX_CHECKED_DOCUMENTS = 200;
/** Longer documents are checked every time: remembering them would let a client fill the memory. */
const MAX_REMEMBERED_LENGTH = 4096;

/**
 * Parses, validates and prints a document, remembering the outcome for short documents. Viewers send the
 * same subscription text, thousands of them when a page is popular, and the outcome depends on the text
 * alone (not on variables): parsing and validating it again for each would be most of what a new
 * subscriber costs, and the garbage of ten thousand arriving at once is what sets the process's peak memory
 * (docs/BENCHMARKS.md, P2).
 */
function checkDocument(schema: GraphQLSchema, query: string): CheckedDocument {
  let cache = checkedDocuments.get(schema);
  if (!cache) {
    cache = new Map();
    checkedDocuments.set(schema, cache);
  }
  const known = cache.get(query);
  if (known) {
    // Map order is insertion order: re-inserting makes it the most recent.
    cache.delete(query);
    cache.set(query, known);
    return known;
  }
  let checked: CheckedDocument;
  try {
    const document = parseWithinLimits(query);
    const errors = validateWithinLimits(schema, document);
    checked = errors.length > 0 ? { errors } : { document, printed: print(document) };
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    checked = { errors: [error] };
  }
  if (query.length <= MAX_REMEMBERED_LENGTH) {
    cache.set(query, checked);
    if (cache.size > MAX_CHECKED_DOCUMENTS) cache.delete(cache.keys().next().value!);
  }
  return checked;
}

function refusal(message: string) {
  return { errors: [new GraphQLError(message, { extensions: { code: 'BAD_REQUEST' } })] };
}

/**
 * Unexpected errors become "Unexpected error." as Yoga masks them (the log keeps the detail); user errors
 * (GraphQLError thrown by resolvers, validation) pass through unchanged.
 */
export function maskResult(result: ExecutionResult, logger: Logger): ExecutionResult {
  if (!result.errors?.length) return result;
  return {
    ...result,
    errors: result.errors.map((error) => {
      if (!error.originalError || error.originalError instanceof GraphQLError) return error;
      logger.error({ err: error.originalError }, 'graphql error');
      return new GraphQLError('Unexpected error.', {
        path: error.path,
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
    }),
  };
}
