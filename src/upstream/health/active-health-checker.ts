// Active health checks for one upstream: `GET http://<endpoint><path>` every `interval`,
// with the state machine of the Upstreams page:
//
//   Healthy   --(unhealthy_threshold consecutive failed probes)-->  Unhealthy
//   Unhealthy --(healthy_threshold consecutive successful probes)--> Healthy
//
// A probe succeeds when the response status equals `expected_status` (the body is read and
// discarded). Everything else fails it: another status, a connection error (refused,
// reset, DNS), or no complete response within `timeout` (the probe is aborted).
//
// Contract:
// - The checker writes only `endpoint.healthy` and `endpoint.lastCheck`, then calls
//   `refreshAvailability`; passive ejection and operator drain are other writers.
// - Endpoints start healthy (the seed's `[*] --> Healthy`); an endpoint that is already
//   unhealthy when a checker is built (state kept across a reload) stays so until it earns
//   `healthy_threshold` successes. Streak counters live here, not on the endpoint, so a
//   new checker starts its streaks from zero.
// - Probes never use the data-plane pools: each endpoint gets one small undici Client
//   (one connection, keep-alive with undici's defaults, so connections are reused when
//   `interval` is short and re-opened otherwise).
// - One probe at a time per endpoint. The first round starts at `start()` (all endpoints at
//   once); afterwards each endpoint's next probe is armed `interval` ms after its previous
//   probe finished (as Envoy arms its interval timer), so probes never overlap and the
//   endpoints drift apart on their own. Timers are unref'd: checks never keep a process alive.
// - `close()` stops timers, aborts in-flight probes, waits for them to settle and closes the
//   clients. A probe that settles after `close()` changes nothing. Endpoint state is left
//   as it is (a successor checker on reload picks it up); `resetActiveHealth` clears it
//   when an upstream stops being health-checked.
// Cost: one timer and at most one request per endpoint per interval; nothing on the hot path.
import { Client } from 'undici';
import type { HealthCheckConfig } from '../../config/types.js';
import type { Logger } from '../../observability/logger.js';
import { refreshAvailability, type EndpointCheckResult, type UpstreamEndpoint } from '../endpoint.js';

export const HEALTH_CHECK_USER_AGENT = 'loom-health-check';

/** Called on each transition, after `available` has been refreshed. */
export type HealthChangeListener = (endpoint: UpstreamEndpoint, healthy: boolean) => void;

export interface ActiveHealthCheckerOptions {
  /** Upstream name, for logs. */
  readonly upstream: string;
  readonly endpoints: readonly UpstreamEndpoint[];
  readonly config: HealthCheckConfig;
  readonly logger?: Logger;
  readonly onChange?: HealthChangeListener;
}

interface ProbeState {
  readonly endpoint: UpstreamEndpoint;
  readonly client: Client;
  /** Consecutive successful probes (meaningful while unhealthy). */
  successes: number;
  /** Consecutive failed probes (meaningful while healthy). */
  failures: number;
  timer: NodeJS.Timeout | null;
  /** The queued or running probe; probes of one endpoint run one after another. */
  pending: Promise<void> | null;
  /** Aborts the running probe. */
  controller: AbortController | null;
}

export class ActiveHealthChecker {
  readonly upstream: string;
  private readonly config: HealthCheckConfig;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly logger: Logger | undefined;
  private readonly onChange: HealthChangeListener | undefined;
  private readonly states: ProbeState[];
  private started = false;
  private closed = false;

  constructor(options: ActiveHealthCheckerOptions) {
    this.upstream = options.upstream;
    this.config = options.config;
    this.path = options.config.path.startsWith('/') ? options.config.path : `/${options.config.path}`;
    this.headers = { 'user-agent': HEALTH_CHECK_USER_AGENT };
    this.logger = options.logger;
    this.onChange = options.onChange;
    const timeout = options.config.timeout;
    this.states = options.endpoints.map((endpoint) => ({
      endpoint,
      // `host:port` and `[v6]:port` are both valid URL authorities.
      client: new Client(`http://${endpoint.address}`, {
        pipelining: 1,
        connect: { timeout },
        connectTimeout: timeout,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      }),
      successes: 0,
      failures: 0,
      timer: null,
      pending: null,
      controller: null,
    }));
  }

  get isStarted(): boolean {
    return this.started && !this.closed;
  }

  /** Probes every endpoint now, then each one every `interval`. Idempotent; no-op after close. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    for (const state of this.states) void this.enqueue(state);
  }

  /**
   * Runs one probe of every endpoint now (after any probe of it already running) and
   * resolves when all have been applied. Re-arms the interval timers when started.
   */
  async probeNow(): Promise<void> {
    if (this.closed) return;
    await Promise.all(this.states.map((state) => this.enqueue(state)));
  }

  /** Graceful and forced at once: a probe has nothing worth waiting for. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pending: Promise<void>[] = [];
    for (const state of this.states) {
      if (state.timer !== null) {
        clearTimeout(state.timer);
        state.timer = null;
      }
      state.controller?.abort();
      if (state.pending !== null) pending.push(state.pending);
    }
    await Promise.all(pending);
    await Promise.all(this.states.map((s) => s.client.destroy().catch(() => undefined)));
  }

  /** Same as `close()` (habit 7: every stateful object has both). */
  destroy(): Promise<void> {
    return this.close();
  }

  /** Queues a probe of one endpoint behind the one running. Never rejects. */
  private enqueue(state: ProbeState): Promise<void> {
    if (state.timer !== null) {
      clearTimeout(state.timer);
      state.timer = null;
    }
    const previous = state.pending;
    const run = (previous === null ? this.probe(state) : previous.then(() => this.probe(state)))
      .catch((err: unknown) => this.logger?.error({ err, upstream: this.upstream }, 'health probe crashed'))
      .then(() => {
        if (state.pending === run) {
          state.pending = null;
          this.arm(state);
        }
      });
    state.pending = run;
    return run;
  }

  private arm(state: ProbeState): void {
    if (!this.started || this.closed || state.timer !== null) return;
    state.timer = setTimeout(() => {
      state.timer = null;
      void this.enqueue(state);
    }, this.config.interval);
    state.timer.unref();
  }

  private async probe(state: ProbeState): Promise<void> {
    if (this.closed) return;
    const controller = new AbortController();
    state.controller = controller;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.config.timeout);
    timer.unref();
    let result: EndpointCheckResult;
    try {
      const response = await state.client.request({
        method: 'GET',
        path: this.path,
        headers: this.headers,
        signal: controller.signal,
      });
      // A response whose body cannot be read in time is a failed probe as well.
      await response.body.dump();
      const ok = response.statusCode === this.config.expected_status;
      result = { at: Date.now(), ok, status: response.statusCode };
    } catch (err) {
      const error = describeError(err);
      result = { at: Date.now(), ok: false, error: timedOut || TIMEOUT_CODES.has(error) ? 'timeout' : error };
    } finally {
      clearTimeout(timer);
      state.controller = null;
    }
    if (this.closed) return;
    this.apply(state, result);
  }

  private apply(state: ProbeState, result: EndpointCheckResult): void {
    const endpoint = state.endpoint;
    endpoint.lastCheck = result;
    if (result.ok) {
      state.failures = 0;
      if (endpoint.healthy) return;
      if (++state.successes < this.config.healthy_threshold) return;
      state.successes = 0;
      endpoint.healthy = true;
      refreshAvailability(endpoint);
      this.logger?.info(
        { upstream: this.upstream, endpoint: endpoint.address, status: result.status },
        'upstream endpoint healthy again',
      );
      this.notify(endpoint, true);
      return;
    }
    state.successes = 0;
    this.logger?.debug(
      { upstream: this.upstream, endpoint: endpoint.address, status: result.status, error: result.error },
      'health check failed',
    );
    if (!endpoint.healthy) return;
    if (++state.failures < this.config.unhealthy_threshold) return;
    state.failures = 0;
    endpoint.healthy = false;
    refreshAvailability(endpoint);
    this.logger?.warn(
      { upstream: this.upstream, endpoint: endpoint.address, status: result.status, error: result.error },
      'upstream endpoint unhealthy',
    );
    this.notify(endpoint, false);
  }

  private notify(endpoint: UpstreamEndpoint, healthy: boolean): void {
    if (this.onChange === undefined) return;
    try {
      this.onChange(endpoint, healthy);
    } catch (err) {
      this.logger?.error({ err, upstream: this.upstream, endpoint: endpoint.address }, 'health change listener threw');
    }
  }
}

/** Marks endpoints healthy again and forgets their last probe: for an upstream whose
 *  `health_check` was removed on reload (its checker closed, its endpoints kept). */
export function resetActiveHealth(endpoints: readonly UpstreamEndpoint[]): void {
  for (const e of endpoints) {
    e.healthy = true;
    e.lastCheck = null;
    refreshAvailability(e);
  }
}

/** undici's own timeouts (set to `timeout` too) may fire before the probe's abort timer. */
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function describeError(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return code;
    const message = (err as { message?: unknown }).message;
    if (typeof message === 'string' && message.length > 0) return message;
  }
  return String(err);
}
