import {
  buildSchema,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isLeafType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  parse,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { MAX_SYMBOLS } from '../src/domain/symbols.ts';
import { LIST_SIZES } from './limits.ts';
import { operationCost } from './query-cost.ts';
import { typeDefs } from './type-defs.ts';

const schema = buildSchema(typeDefs);

function cost(text: string, maxCost = Number.POSITIVE_INFINITY) {
  const document = parse(text);
  const operation = document.definitions.find(
    (d) => d.kind === Kind.OPERATION_DEFINITION,
  ) as OperationDefinitionNode;
  const fragments = new Map(
    document.definitions.flatMap((d) =>
      d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [],
    ),
  );
  return operationCost(schema, operation, (name) => fragments.get(name), LIST_SIZES, maxCost);
}

describe('operationCost', () => {
  it.each([
    ['a scalar field', '{ permissions { adminMode } }', 2],
    [
      'the watchlist: each stock times the most a watchlist holds',
      '{ watchlist { ticker latestPrice } }',
      3 * MAX_SYMBOLS,
    ],
    [
      'a literal tickers list: one series each',
      '{ priceHistory(tickers: ["A", "B"]) { ticker times prices } }',
      2 * 4,
    ],
    [
      'tickers in a variable: the most a watchlist holds',
      'query($t: [String!]) { priceHistory(tickers: $t) { ticker } }',
      2 * MAX_SYMBOLS,
    ],
    [
      'a fragment spread twice counts twice',
      '{ ...F ...F } fragment F on Query { permissions { adminMode } }',
      4,
    ],
    ['inline fragments count their fields', '{ watchlist { ... on Stock { ticker } } }', 2 * MAX_SYMBOLS],
    ['unknown fields count one each', '{ nope { deeper } }', 2],
  ])('%s', (_, text, expected) => {
    expect(cost(text).cost).toBe(expected);
  });

  it('sizes introspection lists from the schema itself', () => {
    const types = Object.keys(schema.getTypeMap()).length;
    expect(cost('{ __schema { types { name } } }').cost).toBe(1 + types * 2);
  });

  it('bounds every type’s fields by the schema’s field count, and one type’s by the widest type', () => {
    const types = Object.values(schema.getTypeMap());
    const fieldCounts = types.map((type) =>
      isObjectType(type) || isInterfaceType(type) ? Object.keys(type.getFields()).length : 0,
    );
    const total = fieldCounts.reduce((sum, n) => sum + n, 0);
    const widest = Math.max(...fieldCounts);
    // `types` answers each type once, so their `fields` answer each field once: a bound of at least
    // the schema's field count (rounded up per type), far under types × the widest type.
    const every = cost('{ __schema { types { fields { name } } } }').cost;
    expect(every).toBe(1 + types.length * (1 + Math.ceil(total / types.length) * 2));
    expect(every - 1 - types.length).toBeGreaterThanOrEqual(total * 2);
    expect(every).toBeLessThan(types.length * widest);
    // One type, or a field's type, can be the widest one.
    expect(cost('{ __type(name: "Query") { fields { name } } }').cost).toBe(1 + widest * 2);
    expect(cost('{ __schema { types { fields { type { fields { name } } } } } }').cost).toBeGreaterThan(
      types.length * Math.ceil(total / types.length) * widest * 2,
    );
  });

  it('counts repeats of one response path through fragments, and only within the cost', () => {
    const text =
      '{ ...F ...G stock(ticker: "A") { ticker } } fragment F on Query { stock(ticker: "A") { ticker } } fragment G on Query { ...F }';
    expect(cost(text).mostRepeatedPath).toEqual({ path: 'stock', count: 3 });
    expect(cost(text, 5).mostRepeatedPath).toBeUndefined();
  });

  it('has a size for every list of objects in the schema', () => {
    const unsized: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        const nullable = getNullableType(field.type);
        if (isListType(nullable) && !isLeafType(getNamedType(nullable))) {
          if (!(`${type.name}.${field.name}` in LIST_SIZES.sizes)) unsized.push(`${type.name}.${field.name}`);
        }
      }
    }
    expect(unsized).toEqual([]);
  });
});
