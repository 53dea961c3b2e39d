// ConfigError[] → human-readable lines, one per error:
//   loom.yaml:12:5: upstreams[0].load_balancer: unknown value "round-robin" (hint: did you mean "round_robin"?)
// An unknown position (0) prints the file alone; an empty path is left out.
import type { ConfigError } from './types.js';

export function formatConfigError(e: ConfigError): string {
  const where = e.line > 0 ? `${e.file}:${e.line}:${e.column}` : e.file;
  const path = e.path !== '' ? `${e.path}: ` : '';
  const hint = e.hint !== undefined ? ` (hint: ${e.hint})` : '';
  return `${where}: ${path}${e.message}${hint}`;
}

export function formatConfigErrors(errors: readonly ConfigError[]): string {
  return errors.map(formatConfigError).join('\n');
}
