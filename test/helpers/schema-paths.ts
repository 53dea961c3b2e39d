// Walks the config JSON Schema into documented key paths (`upstreams[].pool.max_idle`).
import type { JsonSchema } from '../../src/config/schema.js';

export interface SchemaPath {
  readonly path: string;
  readonly schema: JsonSchema;
}

/** Every property path, depth first; list items are `[]`, free-form maps stop at the map. */
export function schemaPaths(schema: JsonSchema, prefix = ''): SchemaPath[] {
  const out: SchemaPath[] = [];
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  for (const [key, child] of Object.entries(props)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    out.push({ path, schema: child });
    if (child.type === 'object') out.push(...schemaPaths(child, path));
    if (child.type === 'array' && (child.items as JsonSchema | undefined)?.type === 'object') {
      out.push(...schemaPaths(child.items as JsonSchema, `${path}[]`));
    }
  }
  return out;
}

/** How a default is written in the docs: YAML flow style. */
export function renderDefault(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(renderDefault).join(', ')}]`;
  return String(value);
}

/** Short type name for the docs' Type column. */
export function typeName(s: JsonSchema): string {
  if (s.format === 'duration') return 'duration';
  if (s.format === 'size') return 'size';
  if (Array.isArray(s.enum)) return (s.enum as string[]).join(' \\| ');
  if (s.type === 'array') return `list of ${(s.items as JsonSchema).type === 'object' ? 'mappings' : `${String((s.items as JsonSchema).type)}s`}`;
  if (s.type === 'object') return s.properties === undefined ? (s.additionalProperties ? `map of ${String((s.additionalProperties as JsonSchema).type)}s` : 'mapping') : 'mapping';
  return String(s.type);
}
