import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  type ASTVisitor,
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  type ParseOptions,
  parse,
  type Source,
  specifiedRules,
  type ValidationContext,
  type ValidationRule,
  validate,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { MAX_SYMBOLS } from '../src/domain/symbols.ts';
import { MAX_FIRINGS_PER_REQUEST } from './alerts.ts';
import { MAX_TICKERS_PER_REQUEST } from './arguments.ts';
import { type ListSizes, operationCost } from './query-cost.ts';

/** Bounds on what one GraphQL document may ask for; nothing our page or GraphiQL examples need comes near. */
export const LIMITS = Object.freeze({
  /**
   * Nesting of selection sets, through fragments (a spread adds no level of its own). Our own types are 2
   * deep; the bound is set by introspection: GraphiQL's schema query (graphql-js `getIntrospectionQuery`,
   * its TypeRef fragment) is 15 deep, and at 12 GraphiQL showed "Error fetching schema" (no docs, no
   * completion).
   */
  maxDepth: 16,
  /** Aliased fields in one operation, fragments expanded: aliases multiply the work of one request. */
  maxAliases: 15,
  /** Directives in one operation, fragments expanded; our page uses none. */
  maxDirectives: 10,
  /** Lexical tokens in one document: parsing cost is bounded before any validation runs. */
  maxTokens: 2000,
  /**
   * Fields × list sizes (graphql/query-cost.ts), with every list at the most it can answer: the page's
   * watchlist query (with each card's previous close) costs 14 per ticker, 28,000 at the MAX_SYMBOLS
   * ceiling, its history query (ticks and bars) 30,000; GraphiQL's schema query about 17,000 (each of the
   * schema's types, fields and arguments counted once, see `Items` there). The bound admits all of them
   * and refuses more than three aliased copies of the watchlist.
   */
  maxCost: 100_000,
  /**
   * Times one response path may be selected, fragments expanded. graphql-js compares every pair of fields
   * on one path (OverlappingFieldsCanBeMerged), so 220 copies of `stock(ticker: "A") { ticker }` cost it
   * 77 ms and 1,990 `__typename` 9 ms; eight let a field (a client's `__typename`) come through the
   * selection itself and seven colocated fragments.
   */
  maxPathRepeats: 8,
});

export type Limits = typeof LIMITS;

/** Upper bounds on our list fields, for the cost: a watchlist holds at most MAX_SYMBOLS tickers. */
export const LIST_SIZES: ListSizes = Object.freeze({
  sizes: {
    'Query.watchlist': MAX_SYMBOLS,
    // Without `tickers`, one series per watched ticker; a literal `tickers` list counts its items instead.
    'Query.priceHistory': MAX_SYMBOLS,
    'Query.barHistory': MAX_SYMBOLS,
    'Query.candles': MAX_SYMBOLS,
    'Subscription.ticks': MAX_SYMBOLS,
    // Pages of rules and of the log are bounded by their `first` and `limit` arguments.
    'Query.alertRules': MAX_FIRINGS_PER_REQUEST,
    'Query.alertFirings': MAX_FIRINGS_PER_REQUEST,
    'Subscription.alerts': MAX_FIRINGS_PER_REQUEST,
    // The watched tickers that have a freshness record.
    'DeploymentStatus.tickers': MAX_SYMBOLS,
  },
  perArgumentItem: {
    'Query.priceHistory': 'tickers',
    'Query.barHistory': 'tickers',
    'Query.candles': 'tickers',
    'Subscription.ticks': 'tickers',
  },
  defaultListSize: MAX_TICKERS_PER_REQUEST,
});

function limitError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } } });
}

/**
 * graphql-armor's rules throw "Syntax Error: …" by default, which aborts validation with a misleading
 * word; reported through the context instead, they are QUERY_TOO_COMPLEX like every other limit here.
 */
const reportArmor = (context: ValidationContext | null, error: GraphQLError) => {
  context?.reportError(limitError(error.message.replace(/^Syntax Error: /, '')));
};
const armorOptions = { propagateOnRejection: false, onReject: [reportArmor], exposeLimits: true };

/** Refuses operations that cost more than `maxCost` or select one response path more than `maxPathRepeats` times. */
export function costRule(
  limits: Pick<Limits, 'maxCost' | 'maxPathRepeats'>,
  lists = LIST_SIZES,
): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const { cost, mostRepeatedPath } = operationCost(
        context.getSchema(),
        node,
        (name) => context.getFragment(name),
        lists,
        limits.maxCost,
      );
      if (!(cost <= limits.maxCost)) {
        const found =
          Number.isFinite(cost) && cost < 1e15 ? Math.round(cost).toLocaleString('en-US') : 'beyond counting';
        context.reportError(
          limitError(
            `Query cost limit of ${limits.maxCost.toLocaleString('en-US')} exceeded, found ${found} (fields × list sizes).`,
          ),
        );
      } else if (mostRepeatedPath && mostRepeatedPath.count > limits.maxPathRepeats) {
        context.reportError(
          limitError(
            `Field "${mostRepeatedPath.path}" is selected ${mostRepeatedPath.count} times; at most ${limits.maxPathRepeats} are allowed.`,
          ),
        );
      }
    },
  });
}

/**
 * The document limits, each linear in the document: graphql-armor's depth, alias and directive rules
 * (each remembers a fragment's figure the first time it is spread) and our cost rule (likewise). Armor's
 * introspection exemption is off: a depth bomb through `__schema` is a depth bomb.
 */
export function limitRules(limits: Limits = LIMITS): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, flattenFragments: true, ignoreIntrospection: false, ...armorOptions }),
    maxAliasesRule({ n: limits.maxAliases, ...armorOptions }),
    maxDirectivesRule({ n: limits.maxDirectives, ...armorOptions }),
    costRule(limits),
  ];
}

/**
 * Parses with the token budget; a document over it is refused with the same QUERY_TOO_COMPLEX error
 * wherever it arrives (Yoga, SSE, graphql-ws). Syntax errors are thrown as graphql-js reports them.
 * graphql-js's own `maxTokens` stops the lexer there, so a megabyte of `{a a a …}` costs as much as 2,000
 * tokens (armor's max-tokens does the same through a Proxy on the lexer; this is the library's own switch).
 */
export function parseWithinLimits(
  source: string | Source,
  limits: Pick<Limits, 'maxTokens'> = LIMITS,
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

/**
 * The limits' refusals for a document (none when it is within every limit). Run on its own, before
 * graphql-js's rules: all rules of one validation pass run side by side, so a refusal reported by a limit
 * would not stop OverlappingFieldsCanBeMerged from doing its quadratic work on the same document.
 */
export function limitErrors(
  schema: GraphQLSchema,
  document: DocumentNode,
  limits: Limits = LIMITS,
): readonly GraphQLError[] {
  return validate(schema, document, limitRules(limits));
}

/**
 * Validates in two passes: the limits first, and graphql-js's own rules only for a document within them.
 * The transports we serve ourselves (src/server/: SSE, graphql-ws) validate through here, by
 * graphql/operation.ts; Yoga does the same through `useQueryLimits`.
 */
export function validateWithinLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  limits: Limits = LIMITS,
): readonly GraphQLError[] {
  const refused = limitErrors(schema, document, limits);
  return refused.length > 0 ? refused : validate(schema, document, specifiedRules);
}

/** The same parse and two-pass validation for Yoga (POST, GET and its own SSE). */
export function useQueryLimits(limits: Limits = LIMITS): Plugin {
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => parseWithinLimits(source, limits, options));
    },
    onValidate({ validateFn, setValidationFn }) {
      setValidationFn((schema, document, rules, typeInfo, options) => {
        const refused = limitErrors(schema, document, limits);
        return refused.length > 0 ? refused : validateFn(schema, document, rules, typeInfo, options);
      });
    },
  };
}
