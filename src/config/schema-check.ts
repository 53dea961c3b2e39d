// Structural validation with ajv against LOOM_SCHEMA, and translation of ajv's errors
// into ConfigErrors (stable code, key path, position, message, hint).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { LOOM_SCHEMA, type JsonSchema } from './schema.js';
import { fromPointer, type SourceIndex } from './source-index.js';
import { parseDuration, parseSize } from './units.js';
import { suggest } from './suggest.js';
import type { ConfigError } from './types.js';

// Compiled once on first use (pure memo: same schema, same validator).
let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (compiled === undefined) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
    ajv.addFormat('duration', { type: 'string', validate: (s: string) => (parseDuration(s) ?? 0) > 0 });
    ajv.addFormat('size', { type: 'string', validate: (s: string) => parseSize(s) !== undefined });
    compiled = ajv.compile(LOOM_SCHEMA);
  }
  return compiled;
}

/** One located problem before it gets a file name. */
export type Problem = Omit<ConfigError, 'file'> & { readonly segments: readonly string[] };

export function checkSchema(data: unknown, index: SourceIndex): Problem[] {
  const validate = validator();
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => convert(e, index));
}

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : typeof v === 'string' ? JSON.stringify(v) : String(v);

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

const MIN_ITEMS_HINTS: Record<string, string> = {
  methods: 'omit `methods` to match every method',
  endpoints: 'list the backend addresses as host:port, e.g. api:8080',
  listeners: 'add one, e.g. { name: http, address: ":8080" }',
};

function convert(e: ErrorObject, index: SourceIndex): Problem {
  const base = fromPointer(e.instancePath);
  const schema = (e.parentSchema ?? {}) as JsonSchema;
  const make = (segments: readonly string[], where: 'key' | 'value', code: string, message: string, hint?: string): Problem => {
    const pos = index.pos(segments, where);
    return { segments, line: pos.line, column: pos.column, path: index.path(segments), code, message, ...(hint ? { hint } : {}) };
  };
  const inWeights = base.length >= 2 && base[base.length - 2] === 'weights';

  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys((schema.properties ?? {}) as object);
      const near = suggest(key, allowed);
      const hint = near !== undefined ? `did you mean \`${near}\`?` : `allowed keys here: ${allowed.join(', ')}`;
      return make([...base, key], 'key', 'unknown_key', `unknown key "${key}"`, hint);
    }
    case 'required': {
      const key = String((e.params as { missingProperty: string }).missingProperty);
      return make([...base, key], 'value', 'missing_key', `missing required key "${key}"`);
    }
    case 'type': {
      const expected = String((e.params as { type: string }).type);
      if (schema.format === 'duration' && typeof e.data === 'number') {
        return make(base, 'value', 'invalid_duration', `duration ${e.data} has no unit`, 'add a unit, e.g. 30s');
      }
      if (schema.format === 'size' && typeof e.data === 'number') {
        return make(base, 'value', 'invalid_size', `size ${e.data} has no unit`, 'add a unit, e.g. 64KB');
      }
      if (inWeights) return make(base, 'value', 'invalid_weight', `weight must be a positive integer, got ${describe(e.data)}`);
      const hint =
        e.data === null
          ? 'give it a value, or remove the key'
          : expected === 'string' && (typeof e.data === 'number' || typeof e.data === 'boolean')
            ? `quote it: "${String(e.data)}"`
            : expected === 'boolean' && typeof e.data === 'string'
              ? 'write true or false (YAML 1.2: yes/no/on/off are strings)'
              : undefined;
      return make(base, 'value', 'invalid_type', `must be ${TYPE_NAMES[expected] ?? expected}, got ${describe(e.data)}`, hint);
    }
    case 'enum': {
      const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String);
      const near = typeof e.data === 'string' ? suggest(e.data, allowed) : undefined;
      const hint = near !== undefined ? `did you mean "${near}"?` : `allowed values: ${allowed.join(', ')}`;
      return make(base, 'value', 'invalid_enum', `unknown value ${describe(e.data)}`, hint);
    }
    case 'format': {
      const format = (e.params as { format: string }).format;
      if (format === 'duration') {
        const ms = parseDuration(String(e.data));
        if (ms !== undefined) return make(base, 'value', 'out_of_range', `duration must be greater than 0, got ${describe(e.data)}`);
        if (/^\d+(\.\d+)?$/.test(String(e.data))) return make(base, 'value', 'invalid_duration', `duration ${describe(e.data)} has no unit`, 'add a unit, e.g. 30s');
        return make(base, 'value', 'invalid_duration', `invalid duration ${describe(e.data)}`, 'write a number and a unit (ns, us, ms, s, m, h), e.g. 100ms, 30s, 1h30m');
      }
      return make(base, 'value', 'invalid_size', `invalid size ${describe(e.data)}`, 'write a number with a unit, e.g. 512B, 64KB, 10MB, 1GB (base 1024)');
    }
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum': {
      if (inWeights) return make(base, 'value', 'invalid_weight', `weight must be a positive integer, got ${describe(e.data)}`);
      const { comparison, limit } = e.params as { comparison: string; limit: number };
      return make(base, 'value', 'out_of_range', `must be ${comparison} ${limit}, got ${describe(e.data)}`);
    }
    case 'minItems': {
      const hint = MIN_ITEMS_HINTS[base[base.length - 1] ?? ''];
      return make(base, 'value', 'empty_list', 'must list at least one item', hint);
    }
    case 'minLength':
      return make(base, 'value', 'empty_value', 'must not be empty');
    default:
      return make(base, 'value', 'invalid_value', e.message ?? 'invalid value');
  }
}
