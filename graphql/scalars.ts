import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

// Full ISO-8601 with a date and time and an explicit zone; "2026-11-30" alone is ambiguous about the zone.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 instant with its zone, or a BAD_USER_INPUT error saying what is wanted. */
export function parseInstant(value: unknown): Date {
  if (typeof value !== 'string' || !ISO_INSTANT.test(value)) {
    throw new GraphQLError(
      `DateTime wants an ISO-8601 instant with a zone, e.g. "2026-11-30T14:05:00Z"; got ${JSON.stringify(value)?.slice(0, 40)}`,
      { extensions: { code: 'BAD_USER_INPUT' } },
    );
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new GraphQLError(`DateTime ${JSON.stringify(value)} is not a real instant`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return date;
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue: parseInstant,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('DateTime wants a string such as "2026-11-30T14:05:00Z"', {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    return parseInstant(ast.value);
  },
});
