import {
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type ParseOptions,
  parse,
  type SelectionSetNode,
  type Source,
  specifiedRules,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Bounds on what one GraphQL document may ask for; nothing our page or GraphiQL examples need comes near. */
export const LIMITS = Object.freeze({
  /**
   * Nesting of selection sets, through fragments. Our own types are 2 deep; the bound is set by
   * introspection: GraphiQL's schema query (graphql-js `getIntrospectionQuery`, its TypeRef fragment) is 15
   * deep, and at 12 GraphiQL showed "Error fetching schema" (no docs, no completion).
   */
  maxDepth: 16,
  /** Aliased fields in one document: aliases multiply the work of one request. */
  maxAliases: 15,
  /** Lexical tokens in one document: parsing cost is bounded before any validation runs. */
  maxTokens: 2000,
});

function limitError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } } });
}

function depthOf(
  selectionSet: SelectionSetNode | undefined,
  fragments: Record<string, FragmentDefinitionNode>,
  seen: Set<string>,
): number {
  if (!selectionSet) return 0;
  let deepest = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      deepest = Math.max(
        deepest,
        selection.selectionSet ? 1 + depthOf(selection.selectionSet, fragments, seen) : 1,
      );
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, depthOf(selection.selectionSet, fragments, seen));
    } else {
      const name = selection.name.value;
      const fragment = fragments[name];
      // A fragment spread twice on one path is a cycle (itself invalid); do not recurse into it forever.
      if (!fragment || seen.has(name)) continue;
      deepest = Math.max(deepest, depthOf(fragment.selectionSet, fragments, new Set([...seen, name])));
    }
  }
  return deepest;
}

/** Refuses operations nested deeper than `max` selection sets. */
export function maxDepthRule(max: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    }
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, fragments, new Set());
        if (depth > max) {
          context.reportError(limitError(`query depth ${depth} exceeds the limit of ${max}`));
        }
      },
    };
  };
}

/** Refuses documents with more than `max` aliased fields. */
export function maxAliasesRule(max: number) {
  return (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    let reported = false;
    return {
      Field(node) {
        if (!node.alias) return;
        aliases += 1;
        if (aliases > max && !reported) {
          reported = true;
          context.reportError(limitError(`the document uses more than ${max} aliases`));
        }
      },
    };
  };
}

/**
 * Parses with the token budget; a document over it is refused with the same QUERY_TOO_COMPLEX error
 * wherever it arrives (Yoga, SSE, graphql-ws). Syntax errors are thrown as graphql-js reports them.
 */
export function parseWithinLimits(
  source: string | Source,
  limits: Pick<typeof LIMITS, 'maxTokens'> = LIMITS,
  options?: ParseOptions,
): DocumentNode {
  try {
    return parse(source, { ...options, maxTokens: limits.maxTokens });
  } catch (error) {
    // graphql-js words it "Document contains more that N tokens. Parsing aborted."
    if (error instanceof GraphQLError && /tokens\. Parsing aborted/.test(error.message)) {
      throw limitError(`the document has more than ${limits.maxTokens} tokens`);
    }
    throw error;
  }
}

/** Every rule a document must pass here: graphql-js's own, plus the depth and alias bounds. */
export function validationRules(limits = LIMITS): ValidationRule[] {
  return [...specifiedRules, maxDepthRule(limits.maxDepth), maxAliasesRule(limits.maxAliases)];
}

/**
 * Parses with a token budget and validates with the depth and alias rules. graphql-js stops lexing at
 * `maxTokens`, so a megabyte of `{a a a …}` costs as much as 2,000 tokens.
 */
export function useQueryLimits(limits = LIMITS): Plugin {
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => parseWithinLimits(source, limits, options));
    },
    onValidate({ addValidationRule }) {
      addValidationRule(maxDepthRule(limits.maxDepth));
      addValidationRule(maxAliasesRule(limits.maxAliases));
    },
  };
}
