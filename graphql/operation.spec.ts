import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { prepareOperation } from './operation.ts';
import { typeDefs } from './type-defs.ts';

const schema = buildSchema(typeDefs);

describe('prepareOperation', () => {
  it('checks a document once and reuses the outcome for the same text, whatever the variables', () => {
    const query = 'subscription Live($t: [String!]) { ticks(tickers: $t) { ticker price } }';
    const first = prepareOperation(schema, { query, variables: { t: ['AAPL'] } });
    const second = prepareOperation(schema, { query, variables: { t: ['NFLX'] } });
    if (!('operation' in first) || !('operation' in second)) throw new Error('expected operations');
    expect(second.operation.document).toBe(first.operation.document);
    expect(second.operation.variables).toEqual({ t: ['NFLX'] });
    expect(second.operation.kind).toBe('subscription');
  });

  it('prints documents that differ only in layout the same, so they share a cohort key', () => {
    const a = prepareOperation(schema, { query: 'subscription { ticks { ticker } }' });
    const b = prepareOperation(schema, { query: 'subscription{\n  ticks {   ticker }\n}' });
    if (!('operation' in a) || !('operation' in b)) throw new Error('expected operations');
    expect(a.operation.printed).toBe(b.operation.printed);
  });

  it('answers the same errors for a remembered invalid document', () => {
    const query = '{ nope }';
    const first = prepareOperation(schema, { query });
    const second = prepareOperation(schema, { query });
    expect('errors' in first && first.errors[0]!.message).toMatch(/Cannot query field "nope"/);
    expect(second).toEqual(first);
  });

  it('does not remember long documents: each is checked on its own', () => {
    const query = `subscription { ticks { ticker } } # ${'x'.repeat(5000)}`;
    const first = prepareOperation(schema, { query });
    const second = prepareOperation(schema, { query });
    if (!('operation' in first) || !('operation' in second)) throw new Error('expected operations');
    expect(second.operation.document).not.toBe(first.operation.document);
  });

  it('refuses malformed parameters with a message that says what is wanted', () => {
    expect(prepareOperation(schema, {})).toMatchObject({
      errors: [{ message: 'the request has no query document' }],
    });
    expect(prepareOperation(schema, { query: '{ watchlist { ticker } }', variables: [] })).toMatchObject({
      errors: [{ message: 'variables must be a JSON object' }],
    });
    expect(
      prepareOperation(schema, { query: 'query A { watchlist { ticker } }', operationName: 'B' }),
    ).toMatchObject({ errors: [{ message: 'Unknown operation named "B".' }] });
  });
});
