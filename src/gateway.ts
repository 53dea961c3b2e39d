// The Gateway owns the listeners, the snapshot holder and the state registry, and runs
// the config flow: compile → activate (snapshot) → swap → drain and release the old one.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { compile } from './compile/compile.js';
import type { GatewayConfig, ListenerConfig } from './config/types.js';
import { AccessLog } from './observability/access-log.js';
import { handleRequest, type RequestHandlerContext } from './proxy/handle-request.js';
import type { ExchangeObserver } from './proxy/proxy-exchange.js';
import { Snapshot } from './runtime/snapshot.js';
import { SnapshotHolder } from './runtime/snapshot-holder.js';
import { StateRegistry } from './runtime/state-registry.js';
import type { RandomSource } from './upstream/selection/selector.js';

export interface GatewayOptions {
  readonly logger: Logger;
  /** Injected for deterministic tests; default Math.random. */
  readonly random?: RandomSource;
  /** Receives every finished exchange; default: the access log. */
  readonly observer?: ExchangeObserver;
}

/** Downstream connection limits (fixed for now; listed in docs/configuration.md). */
export const LISTENER_DEFAULTS = {
  /** Close a client keep-alive connection idle this long. */
  keepAliveTimeoutMs: 65_000,
  /** Time allowed to receive the request headers. */
  headersTimeoutMs: 60_000,
} as const;

interface RunningListener {
  readonly config: ListenerConfig;
  readonly server: Server;
  readonly sockets: Set<Socket>;
}

export class Gateway {
  readonly logger: Logger;
  private readonly holder = new SnapshotHolder();
  private readonly registry = new StateRegistry();
  private readonly random: RandomSource;
  private readonly observer: ExchangeObserver;
  private readonly listeners: RunningListener[] = [];
  private stopping: Promise<void> | null = null;

  constructor(options: GatewayOptions) {
    this.logger = options.logger;
    this.random = options.random ?? Math.random;
    this.observer = options.observer ?? new AccessLog(options.logger);
  }

  /** Compiles and activates `config`, then opens its listeners. Rejects (and opens nothing) on failure. */
  async start(config: GatewayConfig): Promise<void> {
    const snapshot = new Snapshot(compile(config), this.registry, this.random);
    this.holder.swap(snapshot);
    try {
      for (const listener of config.listeners) await this.listen(listener);
    } catch (err) {
      await this.stop(0);
      throw err;
    }
    this.logger.info(
      { listeners: this.addresses(), routes: config.routes.length, upstreams: config.upstreams.length },
      'loom started',
    );
  }

  private async listen(config: ListenerConfig): Promise<void> {
    const ctx: RequestHandlerContext = { holder: this.holder, observer: this.observer, logger: this.logger, proto: 'http' };
    const server = createServer({ noDelay: true, requestTimeout: 0, headersTimeout: LISTENER_DEFAULTS.headersTimeoutMs }, (req, res) =>
      handleRequest(ctx, req, res),
    );
    server.keepAliveTimeout = LISTENER_DEFAULTS.keepAliveTimeoutMs;
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (socket.writable && !socket.destroyed) {
        const body = '{"error":{"code":"LOOM_ERR_BAD_REQUEST","status":400,"message":"malformed HTTP request"}}';
        socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      } else {
        socket.destroy();
      }
      this.logger.debug({ err: err.code ?? err.message, listener: config.name }, 'client error');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: config.host === '' ? undefined : config.host, port: config.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.listeners.push({ config, server, sockets });
  }

  /** Listener name → bound address (the real port when the config said 0). */
  addresses(): Record<string, { host: string; port: number }> {
    const out: Record<string, { host: string; port: number }> = {};
    for (const l of this.listeners) {
      const a = l.server.address() as AddressInfo | null;
      if (a) out[l.config.name] = { host: a.address, port: a.port };
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
   * Stops accepting, lets in-flight requests finish for up to `timeoutMs`, closes idle
   * keep-alive connections at once, then closes upstream pools. Safe to call twice.
   */
  stop(timeoutMs = 30_000): Promise<void> {
    this.stopping ??= this.doStop(timeoutMs);
    return this.stopping;
  }

  private async doStop(timeoutMs: number): Promise<void> {
    const closed = this.listeners.map(
      (l) => new Promise<void>((resolve) => l.server.close(() => resolve())),
    );
    for (const l of this.listeners) l.server.closeIdleConnections();
    const snapshot = this.holder.current;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'timeout');
    });
    const drained = snapshot ? snapshot.whenDrained() : Promise.resolve();
    const outcome = await Promise.race([drained.then(() => 'drained' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.warn({ inflight: snapshot?.inflight }, 'shutdown timeout: closing remaining connections');
    }
    for (const l of this.listeners) {
      l.server.closeAllConnections();
      for (const s of l.sockets) s.destroy();
    }
    await Promise.all(closed);
    this.holder.clear();
    if (snapshot) await snapshot.release();
  }
}
