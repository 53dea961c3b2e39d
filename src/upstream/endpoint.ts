// Runtime state of one upstream endpoint. Selectors read it; the proxy updates it.
// One object per endpoint, created when an upstream is built and mutated in place
// (no allocation per request).
//
// Availability has several sources, each owned by one writer:
//   healthy      active health checks (ActiveHealthChecker)
//   ejectedUntil passive health / outlier detection (OutlierDetector)
//   drained      an operator (admin API)
// Each writer changes its own field and then calls `refreshAvailability`, so selectors
// keep reading one boolean (`available`) on the hot path.

export interface UpstreamEndpoint {
  /** `host:port` exactly as configured. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** Positive integer; 1 unless `weights` says otherwise. */
  readonly weight: number;
  /** Position in the upstream's endpoint list. */
  readonly index: number;
  /** False while the endpoint must not receive new requests (unhealthy, ejected, drained). */
  available: boolean;
  /** Requests sent to this endpoint that have not finished. */
  inflight: number;
  /** Exponentially weighted moving average of response-header latency, ms; 0 before the first sample. */
  latencyEwma: number;
  /** Active health: false after `unhealthy_threshold` failed probes. Starts true. */
  healthy: boolean;
  /** Passive health: clock time (ms) when the current ejection ends; 0 = not ejected. */
  ejectedUntil: number;
  /** Outlier ejections so far (decays while the endpoint behaves); sizes the next ejection. */
  ejections: number;
  /** Taken out of rotation by an operator. */
  drained: boolean;
  /** Result of the latest active probe; null before the first one (or without health checks). */
  lastCheck: EndpointCheckResult | null;
}

export interface EndpointCheckResult {
  /** Wall-clock ms (Date.now()) when the probe finished. */
  readonly at: number;
  readonly ok: boolean;
  /** Status of the probe's response, when one arrived. */
  readonly status?: number;
  /** Why the probe failed without (or despite) a response: error code or message. */
  readonly error?: string;
}

/** Recomputes `available` from its sources. Call after changing any of them. */
export function refreshAvailability(e: UpstreamEndpoint): void {
  e.available = e.healthy && e.ejectedUntil === 0 && !e.drained;
}

/** Weight of the newest latency sample in the EWMA (as Linkerd/Finagle's peak-EWMA uses a decay). */
export const LATENCY_EWMA_ALPHA = 0.3;

export function createEndpoint(address: string, index: number, weight = 1): UpstreamEndpoint {
  const { host, port } = splitHostPort(address);
  return {
    address,
    host,
    port,
    weight,
    index,
    available: true,
    inflight: 0,
    latencyEwma: 0,
    healthy: true,
    ejectedUntil: 0,
    ejections: 0,
    drained: false,
    lastCheck: null,
  };
}

/** `host:port` or `[v6]:port` → parts. Throws on a missing or bad port. */
export function splitHostPort(address: string): { host: string; port: number } {
  let host: string;
  let portText: string;
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    if (end < 0 || address[end + 1] !== ':') throw new Error(`bad address "${address}": expected [host]:port`);
    host = address.slice(1, end);
    portText = address.slice(end + 2);
  } else {
    const colon = address.lastIndexOf(':');
    if (colon < 0) throw new Error(`bad address "${address}": expected host:port`);
    host = address.slice(0, colon);
    portText = address.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText)) throw new Error(`bad address "${address}": port must be a number`);
  const port = Number(portText);
  if (port > 65535) throw new Error(`bad address "${address}": port out of range`);
  return { host, port };
}

export function recordLatency(endpoint: UpstreamEndpoint, ms: number): void {
  endpoint.latencyEwma = endpoint.latencyEwma === 0 ? ms : endpoint.latencyEwma + LATENCY_EWMA_ALPHA * (ms - endpoint.latencyEwma);
}

/**
 * A new endpoint object for an address that another snapshot already knows (the list
 * was reordered or its weight changed) starts from that endpoint's health and ejection
 * state, so a known-dead endpoint does not come back into rotation on a reload.
 */
export function inheritEndpointState(to: UpstreamEndpoint, from: UpstreamEndpoint): void {
  to.healthy = from.healthy;
  to.ejectedUntil = from.ejectedUntil;
  to.ejections = from.ejections;
  to.drained = from.drained;
  to.lastCheck = from.lastCheck;
  to.latencyEwma = from.latencyEwma;
  refreshAvailability(to);
}
