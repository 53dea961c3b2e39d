// `${VAR}` / `${VAR:-default}` substitution in one scalar string. Pure.
//
// Contract:
// - `${VAR}` is replaced by env[VAR]; unset (undefined) is an error naming VAR.
//   A variable set to the empty string substitutes the empty string.
// - `${VAR:-default}` uses `default` when VAR is unset or empty (as in POSIX sh).
//   The default runs to the first `}` and is taken literally (no nesting).
// - `$${` is a literal `${`. Any other `$` is kept as written (`$VAR` is not expanded).
// - VAR matches [A-Za-z_][A-Za-z0-9_]*; anything else inside `${…}` is a syntax error.

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvProblem {
  readonly code: 'env_unset' | 'env_syntax';
  readonly variable?: string;
  readonly message: string;
  readonly hint: string;
}

export interface SubstituteResult {
  readonly value: string;
  /** True when at least one `${…}` (not an escape) was present. */
  readonly substituted: boolean;
  readonly problems: readonly EnvProblem[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function substituteEnv(input: string, env: Env): SubstituteResult {
  if (!input.includes('${')) return { value: input, substituted: false, problems: [] };
  const problems: EnvProblem[] = [];
  let out = '';
  let substituted = false;
  let i = 0;
  while (i < input.length) {
    if (input.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (!input.startsWith('${', i)) {
      out += input[i];
      i += 1;
      continue;
    }
    substituted = true;
    const end = input.indexOf('}', i + 2);
    if (end < 0) {
      problems.push({
        code: 'env_syntax',
        message: `unterminated "\${" in "${input}"`,
        hint: 'close it with "}", or write "$${" for a literal "${"',
      });
      out += input.slice(i);
      break;
    }
    const body = input.slice(i + 2, end);
    const sep = body.indexOf(':-');
    const name = sep < 0 ? body : body.slice(0, sep);
    const fallback = sep < 0 ? undefined : body.slice(sep + 2);
    i = end + 1;
    if (!NAME.test(name)) {
      problems.push({
        code: 'env_syntax',
        message: `invalid variable name "${name}" in "\${${body}}"`,
        hint: 'write ${NAME} or ${NAME:-default}; names are letters, digits and _',
      });
      continue;
    }
    const value = env[name];
    if (fallback !== undefined && (value === undefined || value === '')) out += fallback;
    else if (value !== undefined) out += value;
    else
      problems.push({
        code: 'env_unset',
        variable: name,
        message: `environment variable ${name} is not set`,
        hint: `set ${name}, or give a default: \${${name}:-value}`,
      });
  }
  return { value: out, substituted, problems };
}
