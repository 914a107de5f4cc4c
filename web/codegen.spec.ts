import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { typeDefs } from '../graphql/type-defs.ts';
import { firstDifferentLine, GENERATED_FILE, GENERATED_PATH, generateWebTypes } from './codegen.ts';

describe('the page wire types (web/src/generated/graphql.ts)', () => {
  it('are what `npm run codegen` makes of the schema and operations.graphql now', async () => {
    const [committed, fresh] = await Promise.all([readFile(GENERATED_FILE, 'utf8'), generateWebTypes()]);
    // Not toEqual on the texts: a 400-line diff buries the one thing to do.
    const stale = committed === fresh ? undefined : firstDifferentLine(committed, fresh);
    expect(
      stale,
      `${GENERATED_PATH} is stale from line ${stale} (the schema or web/src/operations.graphql changed since it was generated): run \`npm run codegen\` and commit it`,
    ).toBeUndefined();
  });

  it('follow a change of the schema', async () => {
    const nonNullName = typeDefs.replace(/^(\s*)companyName: String$/m, '$1companyName: String!');
    expect(nonNullName).not.toBe(typeDefs);
    const before = await generateWebTypes();
    const after = await generateWebTypes({ schemaSdl: nonNullName });
    expect(before).toContain('companyName: string | null');
    expect(after).not.toContain('companyName: string | null');
    expect(after).toContain('companyName: string');
  });

  it('refuse an operation that asks for a field the schema lacks, naming it', async () => {
    const operations = 'query Broken { watchlist { ticker lastTradeSize } }';
    await expect(generateWebTypes({ operations })).rejects.toThrow(/lastTradeSize/);
  });
});
