import fc from 'fast-check';
import {
  buildSchema,
  type DocumentNode,
  GraphQLError,
  getIntrospectionQuery,
  Lexer,
  Source,
  TokenKind,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import * as pageOperations from '../web/src/generated/graphql.ts';
import { LIMITS, parseWithinLimits, validateWithinLimits } from './limits.ts';
import { typeDefs } from './type-defs.ts';

const schema = buildSchema(typeDefs);

/** F1 … Fn, each spreading the previous one twice: 2^(n-1) copies of `leaf` once expanded. */
function fragmentFamily(n: number, leaf = '__typename', type = 'Query') {
  const parts = [`fragment F1 on ${type} { ${leaf} }`];
  for (let i = 2; i <= n; i++) parts.push(`fragment F${i} on ${type} { ...F${i - 1} ...F${i - 1} }`);
  return `query { ...F${n} }\n${parts.join('\n')}`;
}

class WorkBudgetExceeded extends Error {
  override name = 'WorkBudgetExceeded';
}

/**
 * The document behind a proxy that counts every property read on its nodes (every rule of every pass, ours,
 * graphql-armor's and graphql-js's, reads the AST to do its work) and stops the validation once `budget`
 * reads are spent. Work is measured in reads, not milliseconds, so the test does not depend on the machine.
 * Proxies are kept per node, so identity-keyed caches inside graphql-js still hit.
 */
function countingDocument(document: DocumentNode, budget: number) {
  const proxies = new WeakMap<object, object>();
  const meter = { reads: 0 };
  const wrap = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    let proxy = proxies.get(value);
    if (!proxy) {
      proxy = new Proxy(value, {
        get(target, key, receiver) {
          meter.reads += 1;
          if (meter.reads > budget) throw new WorkBudgetExceeded(`more than ${budget} AST reads`);
          return wrap(Reflect.get(target, key, receiver));
        },
      });
      proxies.set(value, proxy);
    }
    return proxy;
  };
  return { document: wrap(document) as DocumentNode, meter };
}

function tokenCount(text: string): number {
  const lexer = new Lexer(new Source(text));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF) count += 1;
  return count;
}

function validateCounting(text: string, budget = Number.POSITIVE_INFINITY) {
  const { document, meter } = countingDocument(parseWithinLimits(text), budget);
  const errors = validateWithinLimits(schema, document);
  return { errors, reads: meter.reads };
}

const FULL_INTROSPECTION = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
});

/**
 * The yardstick: AST reads per token for GraphiQL's schema query, the largest document anyone sends us on
 * purpose. Every other document within the token limit must cost at most this many reads per token, times
 * a margin for shapes that read more per token (many short fields). Exponential or quadratic work shows as
 * thousands of times the yardstick; this stays a linear bound.
 */
const READS_PER_TOKEN = validateCounting(FULL_INTROSPECTION).reads / tokenCount(FULL_INTROSPECTION);
const MARGIN = 8;
const budgetFor = (text: string) => Math.ceil(MARGIN * READS_PER_TOKEN * Math.max(tokenCount(text), 50));

const messages = (errors: readonly GraphQLError[]) => errors.map((error) => error.message);

describe('document limits', () => {
  it("admits GraphiQL's schema query and every operation of the page", () => {
    expect(messages(validateWithinLimits(schema, parseWithinLimits(FULL_INTROSPECTION)))).toEqual([]);
    expect(messages(validateWithinLimits(schema, parseWithinLimits(getIntrospectionQuery())))).toEqual([]);
    // Each operation's document as the page sends it: the operation with the fragments it spreads.
    const operations = Object.entries(pageOperations)
      .filter(([name]) => name.endsWith('Document'))
      .map(([, document]) => String(document));
    expect(operations.length).toBeGreaterThanOrEqual(5);
    for (const operation of operations) {
      expect(messages(validateWithinLimits(schema, parseWithinLimits(operation)))).toEqual([]);
    }
  });

  it.each([10, 20, 30])('refuses the fragment family at n=%i with work linear in the document', (n) => {
    const text = fragmentFamily(n, 'permissions { adminMode }');
    const { errors, reads } = validateCounting(text, budgetFor(text));
    expect(messages(errors)).toEqual([
      expect.stringMatching(/cost limit of 100,000 exceeded|selected \d+ times/),
    ]);
    expect(errors[0]!.extensions.code).toBe('QUERY_TOO_COMPLEX');
    // Thirty fragments are read a constant number of times each, not 2^30 times.
    expect(reads).toBeLessThan(300 * n);
  });

  it.each([
    [
      'depth through fragments',
      `{ ...A } fragment A on Query { __schema { types { fields { type { ...B } } } } }
       fragment B on __Type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } }`,
      /Query depth limit of 16 exceeded, found 18/,
    ],
    [
      'aliases through fragments',
      `{ ...A ...B } fragment A on Query { ${Array.from({ length: 8 }, (_, i) => `a${i}: permissions { adminMode }`).join(' ')} }
       fragment B on Query { ${Array.from({ length: 8 }, (_, i) => `b${i}: permissions { adminMode }`).join(' ')} }`,
      /Aliases limit of 15 exceeded, found 16/,
    ],
    [
      'directives',
      `{ permissions ${'@include(if: true) '.repeat(11)} { adminMode } }`,
      /Directives limit of 10 exceeded, found 11/,
    ],
    [
      'cost: aliased watchlists',
      `{ ${Array.from({ length: 6 }, (_, i) => `w${i}: watchlist { ticker companyName logoUrl high52Week low52Week latestPrice latestTime enabled }`).join(' ')} }`,
      /cost limit of 100,000 exceeded, found 108,000/,
    ],
    [
      'one field 220 times',
      `{ ${'stock(ticker: "A") { ticker } '.repeat(220)} }`,
      /"stock" is selected 220 times; at most 8/,
    ],
  ])('refuses %s, naming the limit', (_, text, pattern) => {
    const errors = validateWithinLimits(schema, parseWithinLimits(text));
    expect(messages(errors)).toEqual([expect.stringMatching(pattern)]);
    expect(errors[0]!.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', http: { status: 400 } });
  });

  it('refuses a document over the token limit while parsing', () => {
    expect(() => parseWithinLimits(`{ ${'__typename '.repeat(LIMITS.maxTokens)} }`)).toThrow(
      /more than 2000 tokens/,
    );
  });

  it('counts a literal tickers list as that many series', () => {
    const one = `{ ${Array.from({ length: 15 }, (_, i) => `h${i}: priceHistory(tickers: ["AAPL"]) { ticker times prices }`).join(' ')} }`;
    expect(messages(validateWithinLimits(schema, parseWithinLimits(one)))).toEqual([]);
    const all = `{ ${Array.from({ length: 15 }, (_, i) => `h${i}: priceHistory { ticker times prices }`).join(' ')} }`;
    expect(messages(validateWithinLimits(schema, parseWithinLimits(all)))).toEqual([
      expect.stringMatching(/cost limit/),
    ]);
  });
});

/** Field names of Query and Stock, and some that do not exist, so both valid and invalid documents come up. */
const queryLeaves = [
  '__typename',
  'permissions { adminMode }',
  'watchlist { ticker }',
  'stock(ticker: "A") { ticker }',
];
const stockFields = ['ticker', 'companyName', 'latestPrice', '__typename', 'nope'];

const arbDirective = fc.constantFrom(
  '',
  '@include(if: true)',
  '@skip(if: false)',
  '@include(if: $flag)',
  '@deprecated',
);
const arbStockSelection: fc.Arbitrary<string> = fc.letrec<{ sel: string }>((tie) => ({
  sel: fc.oneof(
    { depthSize: 'small' },
    fc.tuple(fc.constantFrom(...stockFields), arbDirective).map(([f, d]) => `${f} ${d}`),
    fc.tuple(fc.integer({ min: 0, max: 30 }), fc.constantFrom(...stockFields)).map(([i, f]) => `a${i}: ${f}`),
    fc.array(tie('sel'), { minLength: 1, maxLength: 4 }).map((s) => `... on Stock { ${s.join(' ')} }`),
  ),
})).sel;

/** Random documents of every class the issue names: nested fragments, aliases, directives, variables, lists. */
const arbDocument = fc.oneof(
  // Fragment families with random fan-out, depth and leaves (the shape that froze the process).
  fc
    .record({
      n: fc.integer({ min: 2, max: 40 }),
      fanOut: fc.integer({ min: 1, max: 4 }),
      leaf: fc.constantFrom(...queryLeaves),
    })
    .map(({ n, fanOut, leaf }) => {
      const parts = [`fragment F1 on Query { ${leaf} }`];
      for (let i = 2; i <= n; i++) parts.push(`fragment F${i} on Query { ${`...F${i - 1} `.repeat(fanOut)}}`);
      return `query { ...F${n} } ${parts.join(' ')}`;
    }),
  // Fragments on Stock nested under aliased watchlists, with directives and inline fragments.
  fc
    .record({
      aliases: fc.integer({ min: 1, max: 20 }),
      fragments: fc.array(fc.array(arbStockSelection, { minLength: 1, maxLength: 6 }), {
        minLength: 1,
        maxLength: 8,
      }),
      directive: arbDirective,
    })
    .map(({ aliases, fragments, directive }) => {
      const spreads = fragments.map((_, i) => `...S${i}`).join(' ');
      const body = Array.from(
        { length: aliases },
        (_, i) => `w${i}: watchlist ${directive} { ${spreads} }`,
      ).join(' ');
      const defs = fragments.map((sel, i) => `fragment S${i} on Stock { ${sel.join(' ')} }`).join(' ');
      return `query Q($flag: Boolean = true) { ${body} } ${defs}`;
    }),
  // Variables of every shape, and list literals, nested lists and long lists in arguments.
  fc
    .record({
      variables: fc.integer({ min: 0, max: 200 }),
      tickers: fc.array(fc.stringMatching(/^[A-Z]{1,5}$/), { maxLength: 300 }),
      nesting: fc.integer({ min: 0, max: 400 }),
    })
    .map(({ variables, tickers, nesting }) => {
      const definitions = Array.from({ length: variables }, (_, i) => `$v${i}: [[String!]]`).join(' ');
      const list = `${'['.repeat(nesting)}"A"${']'.repeat(nesting)}`;
      return `query${variables > 0 ? `(${definitions})` : ''} { h: priceHistory(tickers: ${JSON.stringify(tickers)}) { ticker } n: priceHistory(tickers: ${list}) { ticker } }`;
    }),
  // One field many times, and nested same-name trees (OverlappingFieldsCanBeMerged's worst shapes).
  fc
    .record({ field: fc.constantFrom(...queryLeaves), times: fc.integer({ min: 1, max: 600 }) })
    .map(({ field, times }) => `{ ${`${field} `.repeat(times)} }`),

  fc
    .record({ fanOut: fc.integer({ min: 1, max: 6 }), depth: fc.integer({ min: 1, max: 12 }) })
    .map(({ fanOut, depth }) => {
      let selection = 'name';
      // Past the token limit anyway; stop before the string itself grows huge.
      const levels =
        fanOut === 1 ? depth : Math.min(depth, Math.floor(Math.log(1000) / Math.log(fanOut)) + 1);
      for (let i = 0; i < levels; i++) selection = `ofType { ${selection} } `.repeat(fanOut);
      return `{ __type(name: "Query") { ${selection} } }`;
    }),
);

describe('any document is answered or refused with work linear in its size', () => {
  it('holds for generated documents (fast-check)', () => {
    fc.assert(
      fc.property(arbDocument, (text) => {
        let parsed: DocumentNode;
        try {
          parsed = parseWithinLimits(text);
        } catch (error) {
          // Over the token limit (or a syntax error): refused before any validation.
          expect(error).toBeInstanceOf(GraphQLError);
          return;
        }
        const budget = budgetFor(text);
        const { document, meter } = countingDocument(parsed, budget);
        const errors = validateWithinLimits(schema, document);
        expect(Array.isArray(errors)).toBe(true);
        expect(meter.reads).toBeLessThanOrEqual(budget);
      }),
      { numRuns: 300 },
    );
  });
});
