import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  type OperationTypeNode,
  validate,
} from 'graphql';
import type { Logger } from 'pino';
import { LIMITS, parseWithinLimits, validationRules } from './limits.ts';

/** What a client asks for, from a GET query string, a JSON body or a graphql-ws `subscribe` payload. */
export interface GraphqlParams {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

/** A document that parsed and passed every validation rule, with the one operation to run. */
export interface PreparedOperation {
  document: DocumentNode;
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
  limits = LIMITS,
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
  let document: DocumentNode;
  try {
    document = parseWithinLimits(params.query, limits);
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [error] };
    throw error;
  }
  const errors = validate(schema, document, validationRules(limits));
  if (errors.length > 0) return { errors };
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
      operationName,
      kind: operation.operation,
      variables: variables as Record<string, unknown>,
    },
  };
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
