// Schema-directed coercion of substituted scalars: `port: ${PORT}` with PORT=8080 yields
// the string "8080"; where the schema expects an integer/number/boolean, turn it into
// one. Only scalars that contained `${…}` are touched: a literal `"8080"` written by
// the user in a number field stays a type error. Mutates `data` in place.
import type { JsonSchema } from './schema.js';
import { fromPointer } from './source-index.js';

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** The sub-schema describing the value at `segments`, following properties/additionalProperties/items. */
export function schemaAt(schema: JsonSchema, segments: readonly string[]): JsonSchema | undefined {
  let s: JsonSchema | undefined = schema;
  for (const seg of segments) {
    if (s === undefined) return undefined;
    if (s.type === 'array') s = s.items as JsonSchema | undefined;
    else {
      const props = s.properties as Record<string, JsonSchema> | undefined;
      const extra = s.additionalProperties;
      s = props?.[seg] ?? (typeof extra === 'object' && extra !== null ? (extra as JsonSchema) : undefined);
    }
  }
  return s;
}

export function coerceSubstituted(data: unknown, schema: JsonSchema, pointers: Iterable<string>): void {
  for (const pointer of pointers) {
    const segments = fromPointer(pointer);
    if (segments.length === 0) continue;
    const parent = segments.slice(0, -1).reduce<unknown>(
      (node, seg) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined),
      data,
    );
    const key = segments[segments.length - 1];
    if (parent === null || typeof parent !== 'object') continue;
    const holder = parent as Record<string, unknown>;
    const value = holder[key];
    if (typeof value !== 'string') continue;
    const type = schemaAt(schema, segments)?.type;
    if (type === 'integer' && INTEGER.test(value)) holder[key] = Number(value);
    else if (type === 'number' && NUMBER.test(value)) holder[key] = Number(value);
    else if (type === 'boolean' && (value === 'true' || value === 'false')) holder[key] = value === 'true';
  }
}
