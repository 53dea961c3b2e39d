// The Gateway owns the listeners, the snapshot holder and the state registry, and runs
// the config flow: compile → activate (new Snapshot, acquiring registry state) → open
// new listeners → swap → close removed listeners → drain and release the old snapshot.
// A failure at any step before the swap leaves the running config untouched.
import type { Logger } from 'pino';
import { compile } from './compile/compile.js';
import type { GatewayConfig, ListenerConfig } from './config/types.js';
import { HttpListener, LISTENER_LIMITS, type ListenerLimits } from './listener/http-listener.js';
import { AccessLog } from './observability/access-log.js';
import type { ExchangeObserver } from './proxy/proxy-exchange.js';
import { Snapshot } from './runtime/snapshot.js';
import { SnapshotHolder } from './runtime/snapshot-holder.js';
import { StateRegistry } from './runtime/state-registry.js';
import type { RandomSource } from './upstream/selection/selector.js';
import type { CircuitBreaker } from './upstream/circuit-breaker.js';
import type { RetryBudget } from './proxy/retry-budget.js';

export interface UpstreamStatus {
  readonly name: string;
  readonly endpoints: readonly {
    readonly address: string;
    readonly healthy: boolean;
    readonly available: boolean;
    readonly ejected: boolean;
    readonly inflight: number;
    readonly last_check: unknown;
  }[];
  readonly circuit_breaker: ReturnType<CircuitBreaker['snapshot']> | null;
  readonly retry_budget: ReturnType<RetryBudget['snapshot']> | null;
}

export interface GatewayOptions {
  readonly logger: Logger;
  /** Injected for deterministic tests; default Math.random. */
  readonly random?: RandomSource;
  /** Receives every finished exchange; default: the access log. */
  readonly observer?: ExchangeObserver;
  /** Downstream connection limits; default LISTENER_LIMITS. */
  readonly listenerLimits?: ListenerLimits;
}

/**
 * Listeners are matched across reloads by the address they bind, so renaming a listener
 * keeps its socket. Port 0 ("any free port") binds a new port each time, so those are
 * matched by name instead.
 */
function bindKey(l: ListenerConfig): string {
  return l.port === 0 ? `${l.protocol}|${l.host}|0|${l.name}` : `${l.protocol}|${l.host}|${l.port}`;
}

export class Gateway {
  readonly logger: Logger;
  private readonly holder = new SnapshotHolder();
  private readonly registry = new StateRegistry();
  private readonly random: RandomSource;
  private readonly observer: ExchangeObserver;
  private readonly limits: ListenerLimits;
  private readonly listeners = new Map<string, HttpListener>();
  /** Old snapshots still serving requests that started on them. */
  private readonly retiring = new Set<Snapshot>();
  private shutdownTimeoutMs = 30_000;
  private stopping: Promise<void> | null = null;
  private applying: Promise<unknown> = Promise.resolve();

  constructor(options: GatewayOptions) {
    this.logger = options.logger;
    this.random = options.random ?? Math.random;
    this.observer = options.observer ?? new AccessLog(options.logger);
    this.limits = options.listenerLimits ?? LISTENER_LIMITS;
  }

  /** Compiles and activates `config`, then opens its listeners. Rejects (and leaves nothing open) on failure. */
  async start(config: GatewayConfig): Promise<void> {
    await this.apply(config);
    this.logger.info(
      { listeners: this.addresses(), routes: config.routes.length, upstreams: config.upstreams.length },
      'loom started',
    );
  }

  /**
   * Replaces the running config. In-flight requests finish on the snapshot they started
   * on; unchanged upstreams keep their connections and endpoint state. Rejects, and
   * keeps the old config serving, when the new one cannot be activated (for example a
   * new listener address is taken). Reloads run one at a time, in call order.
   */
  reload(config: GatewayConfig): Promise<void> {
    const next = this.applying.then(() => {
      if (this.stopping) throw new Error('the gateway is stopping');
      return this.apply(config);
    });
    this.applying = next.catch(() => undefined);
    return next;
  }

  private async apply(config: GatewayConfig): Promise<void> {
    const snapshot = new Snapshot(compile(config), this.registry, this.random, this.logger);
    const wanted = new Map(config.listeners.map((l) => [bindKey(l), l]));
    const opened: HttpListener[] = [];
    try {
      for (const [key, l] of wanted) {
        if (this.listeners.has(key)) continue;
        const listener = new HttpListener(l, { holder: this.holder, observer: this.observer, logger: this.logger, proto: 'http' }, this.logger, this.limits);
        await listener.listen();
        opened.push(listener);
      }
    } catch (err) {
      for (const l of opened) l.destroy();
      await snapshot.release();
      throw err;
    }
    // Commit: nothing below can fail.
    for (const l of opened) this.listeners.set(bindKey(l.config), l);
    const removed: HttpListener[] = [];
    for (const [key, l] of this.listeners) {
      const keep = wanted.get(key);
      if (keep) l.config = keep;
      else {
        removed.push(l);
        this.listeners.delete(key);
      }
    }
    const previous = this.holder.swap(snapshot);
    this.shutdownTimeoutMs = config.shutdown_timeout;
    for (const l of removed) void l.drain();
    if (previous) {
      void previous.releaseControls(snapshot);
      this.retire(previous);
    }
  }

  /** Releases an old snapshot's state once its last request has finished. */
  private retire(snapshot: Snapshot): void {
    this.retiring.add(snapshot);
    void snapshot.whenDrained().then(async () => {
      await snapshot.release();
      this.retiring.delete(snapshot);
    });
  }

  /** Listener name → bound address (the real port when the config said 0). */
  addresses(): Record<string, { host: string; port: number }> {
    const out: Record<string, { host: string; port: number }> = {};
    for (const l of this.listeners.values()) {
      const a = l.address();
      if (a) out[l.config.name] = a;
    }
    return out;
  }

  /** The port a listener is bound to (for tests and embedders). */
  port(listenerName: string): number {
    const a = this.addresses()[listenerName];
    if (!a) throw new Error(`no listener named "${listenerName}"`);
    return a.port;
  }

  /**
   * Runtime state of one upstream of the live config (for the admin API and tests):
   * endpoints with their rotation state, the circuit breaker and the retry budget.
   */
  upstreamStatus(name: string): UpstreamStatus | undefined {
    const group = this.holder.current?.groups.find((g) => g.name === name);
    if (group === undefined) return undefined;
    return {
      name: group.name,
      endpoints: group.endpoints.map((e) => ({
        address: e.address,
        healthy: e.healthy,
        available: e.available,
        ejected: e.ejectedUntil !== 0,
        inflight: e.inflight,
        last_check: e.lastCheck,
      })),
      circuit_breaker: group.circuitBreaker?.snapshot() ?? null,
      retry_budget: group.retryBudget?.snapshot() ?? null,
    };
  }

  /** Requests in flight on every snapshot (current and retiring). */
  get inflight(): number {
    let n = this.holder.current?.inflight ?? 0;
    for (const s of this.retiring) n += s.inflight;
    return n;
  }

  /**
   * Graceful stop: stops accepting, closes idle keep-alive connections at once, lets
   * in-flight requests finish (their responses carry `Connection: close`) for up to
   * `timeoutMs` (default: the config's `shutdown_timeout`), then closes every
   * connection and the upstream pools. Safe to call twice.
   */
  stop(timeoutMs?: number): Promise<void> {
    this.stopping ??= this.doStop(timeoutMs ?? this.shutdownTimeoutMs);
    return this.stopping;
  }

  private async doStop(timeoutMs: number): Promise<void> {
    // Stop accepting synchronously (callers may log "shutting down" right after stop()),
    // then wait for a reload in flight and drain whatever it opened too.
    for (const l of this.listeners.values()) void l.drain();
    await this.applying;
    const listeners = [...this.listeners.values()];
    const closed = Promise.all(listeners.map((l) => l.drain()));
    const snapshots = [...this.retiring];
    const current = this.holder.current;
    if (current) snapshots.push(current);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'timeout');
    });
    const drained = Promise.all(snapshots.map((s) => s.whenDrained())).then(() => 'drained' as const);
    const outcome = await Promise.race([drained, deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.warn({ inflight: this.inflight, timeout_ms: timeoutMs }, 'shutdown timeout: closing the remaining connections');
    }
    for (const l of listeners) l.destroy();
    await closed;
    this.listeners.clear();
    this.holder.clear();
    this.retiring.clear();
    await Promise.all(snapshots.map((s) => s.release()));
  }
}
