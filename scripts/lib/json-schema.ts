// A JSON Schema (draft-07) validator for the keywords the vendored dfx schema uses
// (scripts/schemas/README.md): type, enum, properties, required, additionalProperties, items,
// uniqueItems, minimum, pattern, anyOf, oneOf, allOf, $ref to #/definitions. Annotations (title,
// description, default, examples, format) do not constrain. Any other keyword is an error, so a
// schema this code does not fully understand is never reported as satisfied.

type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['$schema', 'title', 'description', 'default', 'examples', 'format', 'definitions']);
const CHECKED = new Set([
  'type',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'uniqueItems',
  'minimum',
  'pattern',
  'anyOf',
  'oneOf',
  'allOf',
  '$ref',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

const matchesType = (value: unknown, type: string) => {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
};

/** Every way `value` fails `schema` (empty: it conforms), each as "<json path>: <reason>". */
export function validate(root: Schema, value: unknown): string[] {
  const errors: string[] = [];
  const check = (schema: Schema | boolean, v: unknown, path: string, out: string[]): void => {
    if (schema === true) return;
    if (schema === false) return void out.push(`${path}: not allowed`);
    for (const key of Object.keys(schema)) {
      if (!ANNOTATIONS.has(key) && !CHECKED.has(key)) throw new Error(`the schema uses "${key}" at ${path}, which this validator does not implement`);
    }
    if (typeof schema.$ref === 'string') {
      const match = /^#\/definitions\/(.+)$/.exec(schema.$ref);
      const target = match && (root.definitions as Record<string, Schema> | undefined)?.[match[1]];
      if (!target) throw new Error(`unresolvable $ref ${schema.$ref}`);
      check(target, v, path, out);
    }
    if (schema.type !== undefined) {
      const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
      if (!types.some((t) => matchesType(v, t))) return void out.push(`${path}: is ${typeOf(v)}, expected ${types.join(' or ')}`);
    }
    if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
      out.push(`${path}: ${JSON.stringify(v)} is not one of ${JSON.stringify(schema.enum)}`);
    }
    if (typeof schema.minimum === 'number' && typeof v === 'number' && v < schema.minimum) out.push(`${path}: ${v} is below ${schema.minimum}`);
    if (typeof schema.pattern === 'string' && typeof v === 'string' && !new RegExp(schema.pattern, 'u').test(v))
      out.push(`${path}: does not match ${schema.pattern}`);
    if (typeOf(v) === 'object') {
      const object = v as Record<string, unknown>;
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      for (const name of (schema.required ?? []) as string[]) if (!(name in object)) out.push(`${path}: lacks required "${name}"`);
      for (const [name, child] of Object.entries(object)) {
        if (name in properties) check(properties[name], child, `${path}.${name}`, out);
        else if (schema.additionalProperties !== undefined) check(schema.additionalProperties as Schema | boolean, child, `${path}.${name}`, out);
      }
    }
    if (Array.isArray(v)) {
      if (schema.items !== undefined) v.forEach((item, i) => check(schema.items as Schema, item, `${path}[${i}]`, out));
      if (schema.uniqueItems === true && new Set(v.map((item) => JSON.stringify(item))).size !== v.length) out.push(`${path}: items are not unique`);
    }
    const branches = (key: 'anyOf' | 'oneOf' | 'allOf') =>
      ((schema[key] ?? []) as Schema[]).map((s) => {
        const sub: string[] = [];
        check(s, v, path, sub);
        return sub;
      });
    if (schema.allOf) for (const sub of branches('allOf')) out.push(...sub);
    if (schema.anyOf) {
      const results = branches('anyOf');
      if (!results.some((r) => r.length === 0)) out.push(`${path}: matches none of anyOf (${results.map((r) => r[0]).join('; ')})`);
    }
    if (schema.oneOf) {
      const results = branches('oneOf');
      const passing = results.filter((r) => r.length === 0).length;
      if (passing !== 1) out.push(`${path}: matches ${passing} of oneOf, needs exactly 1 (${results.map((r) => r[0] ?? 'ok').join('; ')})`);
    }
  };
  check(root, value, '$', errors);
  return errors;
}
