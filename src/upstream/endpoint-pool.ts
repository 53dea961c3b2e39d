// Keep-alive connections to one endpoint, honouring `pool.max_open`, `pool.max_idle` and
// `pool.idle_timeout`. Each Http1Connection carries one request at a time (and reconnects
// when the upstream closed it), so "clients" and "connections" are the same count here.
//
// Why not undici's Pool: it has no notion of a maximum number of idle connections, and a
// request routed through it pays for one more dispatch layer (and see http1-connection.ts
// for why the connections are not undici Clients). This class is small and on the hot
// path: `dispatch` scans at most `max_open` clients and allocates nothing.
import type { PoolConfig, UpstreamTimeoutConfig } from '../config/types.js';
import { Http1Connection, type Http1Handler, type Http1Request } from './http1/http1-connection.js';

export interface EndpointPoolOptions {
  readonly host: string;
  readonly port: number;
  /** `host:port` as configured (the Host header when a request has none). */
  readonly address: string;
  readonly pool: PoolConfig;
  readonly timeout: UpstreamTimeoutConfig;
}

/** A dispatch handler that is told when its request must wait for a busy connection. */
export interface PoolDispatchHandler extends Http1Handler {
  /** Set by `dispatch` before the connection can call back: what to pass to `release`. */
  slot: PooledClientSlot | null;
  /** Called synchronously from `dispatch` when every connection is busy and `max_open` is reached. */
  onQueued(): void;
}

interface PooledClient {
  readonly client: Http1Connection;
  /** Requests dispatched on this client that have not completed. */
  busy: number;
}

export class EndpointPool {
  readonly address: string;
  private readonly options: EndpointPoolOptions;
  private readonly clients: PooledClient[] = [];
  private closed = false;

  constructor(options: EndpointPoolOptions) {
    this.address = options.address;
    this.options = options;
  }

  /** Connections currently open or opening. */
  get openConnections(): number {
    let n = 0;
    for (const c of this.clients) if (c.client.connected || c.busy > 0) n++;
    return n;
  }

  /** Connections open and not carrying a request. */
  get idleConnections(): number {
    let n = 0;
    for (const c of this.clients) if (c.busy === 0 && c.client.connected) n++;
    return n;
  }

  get clientCount(): number {
    return this.clients.length;
  }

  /**
   * Hot path. Sends the request on an idle client, a new one while under `max_open`, or
   * else queues it on the least busy one. `handler.slot` is set first: the connection may
   * call back (even fail the request) before this returns.
   */
  dispatch(opts: Http1Request, handler: PoolDispatchHandler): void {
    let chosen: PooledClient | undefined;
    let leastBusy: PooledClient | undefined;
    for (let i = 0; i < this.clients.length; i++) {
      const c = this.clients[i];
      if (c.busy === 0) {
        chosen = c;
        break;
      }
      if (leastBusy === undefined || c.busy < leastBusy.busy) leastBusy = c;
    }
    if (chosen === undefined) {
      if (this.clients.length < this.options.pool.max_open) chosen = this.addClient();
      else {
        chosen = leastBusy!;
        handler.onQueued();
      }
    }
    chosen.busy++;
    handler.slot = chosen;
    chosen.client.dispatch(opts, handler);
  }

  /** Called once per dispatched request when it has finished (success or error). */
  release(slot: PooledClientSlot): void {
    const c = slot as PooledClient;
    c.busy--;
    if (c.busy === 0 && this.clients.length > this.options.pool.max_idle) this.trimIdle();
  }

  private addClient(): PooledClient {
    const { timeout, pool } = this.options;
    const client = new Http1Connection({
      host: this.options.host,
      port: this.options.port,
      authority: this.options.address,
      connectTimeout: timeout.connect,
      bodyTimeout: timeout.idle,
      keepAliveTimeout: pool.idle_timeout,
    });
    const pooled: PooledClient = { client, busy: 0 };
    this.clients.push(pooled);
    return pooled;
  }

  /** Closes idle clients above `max_idle`, newest first (the oldest are the warmest). */
  private trimIdle(): void {
    let idle = 0;
    for (const c of this.clients) if (c.busy === 0) idle++;
    for (let i = this.clients.length - 1; i >= 0 && idle > this.options.pool.max_idle; i--) {
      const c = this.clients[i];
      if (c.busy !== 0) continue;
      this.clients.splice(i, 1);
      idle--;
      void c.client.close().catch(() => undefined);
    }
  }

  /** Graceful: lets dispatched requests finish, then closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const clients = this.clients.splice(0);
    await Promise.all(clients.map((c) => c.client.close().catch(() => undefined)));
  }

  /** Forced: aborts whatever is in flight. */
  async destroy(): Promise<void> {
    this.closed = true;
    const clients = this.clients.splice(0);
    await Promise.all(clients.map((c) => c.client.destroy().catch(() => undefined)));
  }
}

/** Opaque handle returned by `dispatch`. */
export type PooledClientSlot = object;
