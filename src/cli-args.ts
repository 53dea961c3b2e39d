// Command-line parsing. Accepts the Go-style single-dash flags the FAQ shows
// (`loom -config config.yaml -log-level debug`) and the usual `--flag value` and
// `--flag=value` forms. Pure: returns a description of what to do, or a usage error.
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './observability/logger.js';

export type CliCommand =
  | { readonly kind: 'run'; readonly config: string; readonly logLevel: LogLevel; readonly logFormat: LogFormat }
  | { readonly kind: 'validate'; readonly config: string }
  | { readonly kind: 'version' }
  | { readonly kind: 'help' }
  | { readonly kind: 'usage_error'; readonly message: string };

export const USAGE = `Usage:
  loom -config FILE [-log-level debug|info|warn|error] [-log-format json|pretty]
  loom validate FILE        check a config file; exit 0 when valid, 2 when not
  loom version              print the version
  loom --help               this text

Flags may be written -flag value, --flag value or --flag=value.
  -config FILE        the YAML config (required to run)
  -log-level LEVEL    debug, info (default), warn or error
  -log-format FORMAT  json (default) or pretty
`;

const VALUE_FLAGS = new Set(['config', 'log-level', 'log-format']);

export function parseCliArgs(argv: readonly string[]): CliCommand {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help' || arg === '-help') return { kind: 'help' };
    if (arg === '-v' || arg === '--version' || arg === '-version') return { kind: 'version' };
    if (arg.startsWith('-') && arg !== '-') {
      const body = arg.replace(/^--?/, '');
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      if (!VALUE_FLAGS.has(name)) return { kind: 'usage_error', message: `unknown flag ${arg}` };
      let value: string | undefined = eq < 0 ? undefined : body.slice(eq + 1);
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) return { kind: 'usage_error', message: `flag -${name} needs a value` };
      }
      flags.set(name, value);
    } else {
      positional.push(arg);
    }
  }
  const [command, ...rest] = positional;
  if (command === 'version') return { kind: 'version' };
  if (command === 'help') return { kind: 'help' };
  if (command === 'validate') {
    const config = rest[0] ?? flags.get('config');
    if (!config) return { kind: 'usage_error', message: 'loom validate needs a config file' };
    if (rest.length > 1) return { kind: 'usage_error', message: `unexpected argument ${rest[1]}` };
    return { kind: 'validate', config };
  }
  if (command !== undefined) return { kind: 'usage_error', message: `unknown command ${command}` };
  const config = flags.get('config');
  if (!config) return { kind: 'usage_error', message: 'missing -config FILE' };
  const logLevel = flags.get('log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    return { kind: 'usage_error', message: `-log-level must be one of ${LOG_LEVELS.join(', ')}` };
  }
  const logFormat = flags.get('log-format') ?? 'json';
  if (!(LOG_FORMATS as readonly string[]).includes(logFormat)) {
    return { kind: 'usage_error', message: `-log-format must be one of ${LOG_FORMATS.join(', ')}` };
  }
  return { kind: 'run', config, logLevel: logLevel as LogLevel, logFormat: logFormat as LogFormat };
}
