// Keys (and values) the schema knows but the gateway does not implement yet. The issue
// that implements one deletes its line here (and its "not supported yet" in the schema
// descriptions and docs/configuration.md). `path` uses `[]` for "every item".

export interface NotSupportedEntry {
  readonly path: string;
  /** When set, only these values of the key are rejected (others are left to the schema). */
  readonly values?: readonly string[];
  /** The issue that will implement it, as listed in docs/configuration.md. */
  readonly waitsFor: 'resilience' | 'observability' | 'tls' | 'plugins' | 'traffic' | 'later';
  readonly hint: string;
}

const remove = (what: string, issue: string): string => `remove it for now; ${what} arrives with the ${issue} issue`;

export const NOT_SUPPORTED: readonly NotSupportedEntry[] = [
  { path: 'listeners[].protocol', values: ['https', 'h2c', 'http3', 'grpc', 'grpcs'], waitsFor: 'tls', hint: 'use `protocol: http` for now; other protocols arrive with the TLS/protocols issue' },
  { path: 'listeners[].tls', waitsFor: 'tls', hint: remove('listener TLS', 'TLS') },
  { path: 'routes[].plugins', waitsFor: 'plugins', hint: remove('per-route plugins', 'plugins') },
  { path: 'upstreams[].bulkhead', waitsFor: 'resilience', hint: remove('the bulkhead', 'resilience') },
  { path: 'upstreams[].tls', waitsFor: 'tls', hint: remove('upstream TLS', 'TLS') },
  { path: 'upstreams[].service_discovery', waitsFor: 'later', hint: 'remove it and list the endpoints explicitly' },
  { path: 'metrics.opentelemetry', waitsFor: 'later', hint: 'remove it; Prometheus metrics are served on the admin listener (`metrics.prometheus`)' },
  { path: 'plugins', waitsFor: 'plugins', hint: remove('WebAssembly plugins', 'plugins') },
  { path: 'rate_limit', waitsFor: 'traffic', hint: remove('rate limiting', 'traffic-policies') },
  { path: 'cors', waitsFor: 'traffic', hint: remove('CORS', 'traffic-policies') },
  { path: 'cache', waitsFor: 'traffic', hint: remove('response caching', 'traffic-policies') },
  { path: 'ai_gateway', waitsFor: 'later', hint: 'remove it' },
  { path: 'graphql', waitsFor: 'later', hint: 'remove it' },
  { path: 'ebpf', waitsFor: 'later', hint: 'remove it' },
];

export interface NotSupportedHit {
  readonly entry: NotSupportedEntry;
  /** JSON pointer segments of the key found. */
  readonly segments: readonly string[];
  /** The offending value when the entry lists `values`. */
  readonly value?: string;
}

/** Every occurrence in `data` of a not-supported key or value. Pure. */
export function findNotSupported(data: unknown): NotSupportedHit[] {
  const hits: NotSupportedHit[] = [];
  for (const entry of NOT_SUPPORTED) {
    const pattern = entry.path.replace(/\[\]/g, '.[]').split('.');
    visit(data, pattern, [], (segments, value) => {
      if (entry.values === undefined) hits.push({ entry, segments });
      else if (typeof value === 'string' && entry.values.includes(value)) hits.push({ entry, segments, value });
    });
  }
  return hits;
}

function visit(node: unknown, pattern: string[], at: string[], found: (segments: string[], value: unknown) => void): void {
  const [head, ...rest] = pattern;
  if (head === '[]') {
    if (Array.isArray(node)) node.forEach((item, i) => visit(item, rest, [...at, String(i)], found));
    return;
  }
  if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, head)) return;
  const child = (node as Record<string, unknown>)[head];
  if (rest.length === 0) found([...at, head], child);
  else visit(child, rest, [...at, head], found);
}
