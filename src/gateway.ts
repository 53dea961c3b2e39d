// The Gateway owns the listeners, the snapshot holder and the state registry, and runs
// the config flow: compile → activate (new Snapshot, acquiring registry state) → open
// new listeners → swap → close removed listeners → drain and release the old snapshot.
// A failure at any step before the swap leaves the running config untouched.
import type { Logger } from 'pino';
import { compile } from './compile/compile.js';
import type { GatewayConfig, ListenerConfig } from './config/types.js';
import { HttpListener, LISTENER_LIMITS, type ListenerLimits } from './listener/http-listener.js';
import { AdminServer, type AdminBackend } from './admin/admin-server.js';
import { isLoopbackHost } from './config/address.js';
import type { CompiledRoute } from './compile/compile.js';
import { AccessLog } from './observability/access-log.js';
import { GatewayMetrics, type MetricsStateSource } from './observability/metrics/gateway-metrics.js';
import { Telemetry } from './observability/telemetry.js';
import { Tracing } from './observability/tracing.js';
import type { ReloadOutcome } from './runtime/config-reloader.js';
import { newReloadStats, type ReloadStats } from './runtime/reload-stats.js';
import type { UpstreamGroup } from './upstream/upstream-group.js';
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
  /** The access log to write to; default: one writing each line at once to the logger's destination. */
  readonly accessLog?: AccessLog;
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

export class Gateway implements AdminBackend, MetricsStateSource {
  readonly logger: Logger;
  readonly reloadStats: ReloadStats = newReloadStats();
  /** Access log and metrics: the one observer every listener reports to. */
  readonly telemetry: Telemetry;
  private readonly holder = new SnapshotHolder();
  private readonly registry = new StateRegistry();
  private readonly random: RandomSource;
  private admin: AdminServer | null = null;
  private tracing: Tracing | null = null;
  private tracingKey = '';
  private reloader: (() => Promise<ReloadOutcome>) | null = null;
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
    this.telemetry = new Telemetry(options.accessLog ?? new AccessLog(options.logger), new GatewayMetrics(this));
    this.limits = options.listenerLimits ?? LISTENER_LIMITS;
  }

  /** Compiles and activates `config`, then opens its listeners. Rejects (and leaves nothing open) on failure. */
  async start(config: GatewayConfig): Promise<void> {
    await this.apply(config);
    this.reloadStats.lastSuccessAt = Date.now();
    this.logger.info(
      {
        listeners: this.addresses(),
        admin: this.adminAddress(),
        routes: config.routes.length,
        upstreams: config.upstreams.length,
        tracing: config.tracing === undefined ? false : config.tracing.provider,
      },
      'loom started',
    );
  }

  /** What `POST /reload` runs (the `loom` command passes its ConfigReloader). */
  setReloader(reload: () => Promise<ReloadOutcome>): void {
    this.reloader = reload;
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
    let newAdmin: AdminServer | null = null;
    let tracing: { key: string; tracing: Tracing | null };
    try {
      for (const [key, l] of wanted) {
        if (this.listeners.has(key)) continue;
        const listener = new HttpListener(l, { holder: this.holder, observer: this.telemetry, logger: this.logger, proto: 'http' }, this.logger, this.limits);
        await listener.listen();
        opened.push(listener);
      }
      if (config.admin.enabled && (this.admin === null || adminBindChanged(this.admin.config, config.admin))) {
        newAdmin = new AdminServer(config.admin, config.metrics, this, this.logger);
        await newAdmin.listen();
      }
      tracing = this.tracingFor(config);
    } catch (err) {
      for (const l of opened) l.destroy();
      if (newAdmin !== null) void newAdmin.close();
      await snapshot.release();
      throw err;
    }
    // Commit: nothing below can fail.
    this.tracingKey = tracing.key;
    this.tracing = tracing.tracing;
    snapshot.tracing = tracing.tracing;
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
    this.telemetry.configure(config);
    if (newAdmin !== null) {
      if (this.admin !== null) void this.admin.close();
      this.admin = newAdmin;
      const admin = config.admin;
      if (admin.auth === undefined && !isLoopbackHost(admin.host)) {
        this.logger.warn({ admin: admin.address }, 'the admin API accepts connections from other hosts without authentication; configure admin.auth or bind it to 127.0.0.1');
      }
    } else if (!config.admin.enabled && this.admin !== null) {
      void this.admin.close();
      this.admin = null;
    } else this.admin?.configure(config.admin, config.metrics);
    const previous = this.holder.swap(snapshot);
    this.shutdownTimeoutMs = config.shutdown_timeout;
    for (const l of removed) void l.drain();
    if (previous) {
      void previous.releaseControls(snapshot);
      this.retire(previous);
    }
  }

  /**
   * The Tracing for `config`: the running one while its settings are unchanged, else a
   * new one (the old one is shut down, flushing its spans, once no snapshot uses it).
   * Pure until apply() commits the result.
   */
  private tracingFor(config: GatewayConfig): { key: string; tracing: Tracing | null } {
    const key = config.tracing === undefined ? '' : JSON.stringify(config.tracing);
    if (key === this.tracingKey) return { key, tracing: this.tracing };
    return { key, tracing: config.tracing === undefined ? null : Tracing.create(config.tracing, this.logger) };
  }

  /** Releases an old snapshot's state once its last request has finished. */
  private retire(snapshot: Snapshot): void {
    this.retiring.add(snapshot);
    void snapshot.whenDrained().then(async () => {
      await snapshot.release();
      this.retiring.delete(snapshot);
      const t = snapshot.tracing;
      if (t !== null && t !== this.tracing && t !== this.holder.current?.tracing && ![...this.retiring].some((s) => s.tracing === t)) await t.shutdown();
    });
  }

  // --- AdminBackend / MetricsStateSource ---

  liveGroups(): readonly UpstreamGroup[] {
    return this.holder.current?.groups ?? [];
  }

  liveRoutes(): readonly CompiledRoute[] {
    return this.holder.current?.compiled.routes ?? [];
  }

  liveConfig(): GatewayConfig | null {
    return this.holder.current?.compiled.config ?? null;
  }

  get lifecycle(): 'starting' | 'serving' | 'stopping' {
    if (this.stopping !== null) return 'stopping';
    return this.holder.current === null ? 'starting' : 'serving';
  }

  reloadFromSource(): Promise<ReloadOutcome> | null {
    return this.reloader === null ? null : this.reloader();
  }

  metrics(): GatewayMetrics | null {
    return this.telemetry.metricsEnabled ? this.telemetry.metrics : null;
  }

  *listenerConnections(): Iterable<readonly [string, number]> {
    for (const l of this.listeners.values()) yield [l.config.name, l.connections];
  }

  /** The admin listener's bound address (the real port when the config said 0); null when off. */
  adminAddress(): { host: string; port: number } | null {
    return this.admin?.address() ?? null;
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
    // The admin API stays up while draining (so /ready reports 503); spans are flushed last.
    await this.admin?.close();
    this.admin = null;
    const tracers = new Set(snapshots.map((s) => s.tracing));
    tracers.add(this.tracing);
    await Promise.all([...tracers].map((t) => t?.shutdown()));
  }
}


/** The admin listener must be rebound when its address changes (port 0 never rebinds). */
function adminBindChanged(running: { host: string; port: number }, next: { host: string; port: number }): boolean {
  return running.host !== next.host || (running.port !== next.port && next.port !== 0);
}
