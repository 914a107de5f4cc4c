import {
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  SchemaMetaFieldDef,
  type SelectionSetNode,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type ValueNode,
} from 'graphql';

/**
 * How many items a list field can answer at most, by `Type.field`. A list not named here counts as
 * `defaultListSize`; lists of scalars (PriceSeries.times, whose length the chart width bounds) count once.
 */
export interface ListSizes {
  readonly sizes: Readonly<Record<string, number>>;
  /**
   * Fields whose list holds one item per entry of this argument when it is given as a literal list
   * (`priceHistory(tickers: ["AAPL"])` answers one series), e.g. `{ 'Query.priceHistory': 'tickers' }`.
   */
  readonly perArgumentItem: Readonly<Record<string, string>>;
  readonly defaultListSize: number;
}

/** What one operation asks for, computed in one pass over the document with every fragment costed once. */
export interface OperationCost {
  /**
   * Fields × list sizes: each field costs 1 plus its selection's cost, times the most items its list can
   * answer. An upper bound on the values the executor may resolve for the operation.
   */
  cost: number;
  /**
   * The most times one response path (`watchlist.ticker`) is selected, fragments expanded. graphql-js's
   * OverlappingFieldsCanBeMerged compares every pair of fields that share a path, so its work grows with
   * the square of this; bounding it keeps validation linear in the expanded selection.
   */
  mostRepeatedPath: { path: string; count: number } | undefined;
}

/**
 * Which items a selection's objects are: one of their kind (`__type(name:)`, a field's type), or every one
 * in the schema (`__schema { types }` answers every type; their `fields`, together, every field).
 */
type Items = 'some' | 'every-type' | 'every-field';

/** The items a list's elements are, given the items its parent object is among. */
function itemsUnder(key: string, parentItems: Items): Items {
  if (key === '__Schema.types') return 'every-type';
  if (key === '__Type.fields' && parentItems === 'every-type') return 'every-field';
  return 'some';
}

interface IntrospectionSizes {
  /** The most one list can answer for one parent: `__Type.fields` is the widest type's field count, … */
  most: Record<string, number>;
  /**
   * Per parent, when the parents are every type (or every field) of the schema: the list's total across
   * them, spread over them and rounded up. `__schema { types { fields } }` answers each field once, so
   * its bound is types × ⌈fields ÷ types⌉, not types × the widest type's count; the latter grew with every
   * field added to Query (the widest type) times every type, and refused GraphiQL's own schema query.
   */
  spread: Record<string, number>;
}

/** Sizes of the introspection lists, read off the schema: `__Schema.types` can answer every type, … */
function introspectionListSizes(schema: GraphQLSchema): IntrospectionSizes {
  const types = Object.values(schema.getTypeMap());
  const fieldsOf = (type: GraphQLNamedType) =>
    isObjectType(type) || isInterfaceType(type) ? Object.values(type.getFields()) : [];
  const counts: Record<string, (type: GraphQLNamedType) => number> = {
    '__Type.fields': (type) => fieldsOf(type).length,
    '__Type.interfaces': (type) =>
      isObjectType(type) || isInterfaceType(type) ? type.getInterfaces().length : 0,
    '__Type.possibleTypes': (type) => (isAbstractType(type) ? schema.getPossibleTypes(type).length : 0),
    '__Type.enumValues': (type) => (isEnumType(type) ? type.getValues().length : 0),
    '__Type.inputFields': (type) => (isInputObjectType(type) ? Object.keys(type.getFields()).length : 0),
  };
  const fieldArgs = types.flatMap((type) => fieldsOf(type).map((field) => field.args.length));
  const directives = schema.getDirectives();
  const most: Record<string, number> = {
    '__Schema.types': types.length,
    '__Schema.directives': directives.length,
    '__Field.args': Math.max(1, ...fieldArgs),
    '__Directive.args': Math.max(1, ...directives.map((directive) => directive.args.length)),
  };
  const spread: Record<string, number> = {};
  const perItem = (total: number, items: number) => Math.max(1, Math.ceil(total / Math.max(1, items)));
  for (const [key, count] of Object.entries(counts)) {
    const each = types.map(count);
    most[key] = Math.max(1, ...each);
    spread[`every-type:${key}`] = perItem(
      each.reduce((sum, n) => sum + n, 0),
      types.length,
    );
  }
  spread['every-field:__Field.args'] = perItem(
    fieldArgs.reduce((sum, n) => sum + n, 0),
    fieldArgs.length,
  );
  return { most, spread };
}

const introspectionSizes = new WeakMap<GraphQLSchema, IntrospectionSizes>();

/**
 * Costs one operation. Linear in the document: each fragment's cost and its response paths are worked out
 * once, however many times it is spread, so `fragment F30 { ...F29 ...F29 }` costs thirty steps, not 2^30.
 * The paths are only expanded when the cost is within `maxCost` (every field costs at least 1, so the
 * expansion is then at most `maxCost` entries).
 */
export function operationCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  getFragment: (name: string) => FragmentDefinitionNode | null | undefined,
  lists: ListSizes,
  maxCost: number,
): OperationCost {
  let introspection = introspectionSizes.get(schema);
  if (!introspection) {
    introspection = introspectionListSizes(schema);
    introspectionSizes.set(schema, introspection);
  }
  const sizes = { ...introspection.most, ...lists.sizes };
  const spread = introspection.spread;
  const rootType = schema.getRootType(operation.operation);
  const fragmentCosts = new Map<string, number>();
  const fragmentPaths = new Map<string, Map<string, number>>();

  function fieldDefinition(
    parent: GraphQLNamedType | undefined,
    name: string,
  ): GraphQLField<unknown, unknown> | undefined {
    if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
    if (parent && parent === schema.getQueryType()) {
      if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
      if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
    }
    return parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
  }

  function listFactor(
    parent: GraphQLNamedType | undefined,
    field: GraphQLField<unknown, unknown>,
    args: readonly { name: { value: string }; value: ValueNode }[] | undefined,
    items: Items,
  ): number {
    let type = getNullableType(field.type);
    if (!isListType(type) || isLeafType(getNamedType(type))) return 1;
    const key = `${parent?.name}.${field.name}`;
    const perItem = lists.perArgumentItem[key];
    const given = perItem ? args?.find((arg) => arg.name.value === perItem)?.value : undefined;
    let factor =
      given?.kind === Kind.LIST
        ? Math.max(1, given.values.length)
        : (spread[`${items}:${key}`] ?? sizes[key] ?? lists.defaultListSize);
    // A list of lists multiplies again.
    type = getNullableType(type.ofType);
    while (isListType(type)) {
      factor *= lists.defaultListSize;
      type = getNullableType(type.ofType);
    }
    return factor;
  }

  function typeNamed(name: string | undefined, otherwise: GraphQLNamedType | undefined) {
    return name ? (schema.getType(name) ?? undefined) : otherwise;
  }

  /** The cost of `selectionSet` on objects of type `parent`, which are `items` (see {@link Items}). */
  function costOf(
    selectionSet: SelectionSetNode,
    parent: GraphQLNamedType | undefined,
    items: Items,
  ): number {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const definition = fieldDefinition(parent, selection.name.value);
        const childType = definition ? getNamedType(definition.type) : undefined;
        const childItems = itemsUnder(`${parent?.name}.${selection.name.value}`, items);
        const inner = selection.selectionSet ? costOf(selection.selectionSet, childType, childItems) : 0;
        total += (1 + inner) * (definition ? listFactor(parent, definition, selection.arguments, items) : 1);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        total += costOf(
          selection.selectionSet,
          typeNamed(selection.typeCondition?.name.value, parent),
          items,
        );
      } else {
        total += fragmentCost(selection.name.value, items);
      }
    }
    return total;
  }

  /** A fragment's cost, once per fragment and kind of items (at most three times, however often spread). */
  function fragmentCost(name: string, items: Items): number {
    const memo = `${items}:${name}`;
    const known = fragmentCosts.get(memo);
    if (known !== undefined) return known;
    // A cycle (refused by graphql-js's NoFragmentCycles) adds nothing instead of recursing forever.
    fragmentCosts.set(memo, 0);
    const fragment = getFragment(name);
    const cost = fragment
      ? costOf(fragment.selectionSet, typeNamed(fragment.typeCondition.name.value, undefined), items)
      : 0;
    fragmentCosts.set(memo, cost);
    return cost;
  }

  /** Adds the response paths under `selectionSet` to `into`, each prefixed with `prefix`. */
  function collectPaths(selectionSet: SelectionSetNode, prefix: string, into: Map<string, number>) {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const path = `${prefix}${(selection.alias ?? selection.name).value}`;
        into.set(path, (into.get(path) ?? 0) + 1);
        if (selection.selectionSet) collectPaths(selection.selectionSet, `${path}.`, into);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collectPaths(selection.selectionSet, prefix, into);
      } else {
        for (const [path, count] of pathsOf(selection.name.value)) {
          const full = `${prefix}${path}`;
          into.set(full, (into.get(full) ?? 0) + count);
        }
      }
    }
  }

  function pathsOf(name: string): Map<string, number> {
    const known = fragmentPaths.get(name);
    if (known) return known;
    const paths = new Map<string, number>();
    fragmentPaths.set(name, paths);
    const fragment = getFragment(name);
    if (fragment) collectPaths(fragment.selectionSet, '', paths);
    return paths;
  }

  const cost = costOf(operation.selectionSet, rootType ?? undefined, 'some');
  if (!(cost <= maxCost)) return { cost, mostRepeatedPath: undefined };
  const paths = new Map<string, number>();
  collectPaths(operation.selectionSet, '', paths);
  let mostRepeatedPath: OperationCost['mostRepeatedPath'];
  for (const [path, count] of paths) {
    if (!mostRepeatedPath || count > mostRepeatedPath.count) mostRepeatedPath = { path, count };
  }
  return { cost, mostRepeatedPath };
}
