// An HTTP/1.1 listener: a node:http server that hands every request to the proxy.
// Later listener kinds (https, h2c, http3) implement the same small surface:
// listen / address / drain / close.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ListenerConfig } from '../config/types.js';
import { ERROR_CODES, type GatewayErrorCode } from '../errors.js';
import { boundAddress, listenOn } from './bind.js';
import { handleRequest, type RequestHandlerContext } from '../proxy/handle-request.js';

/** Downstream connection limits (fixed for now; docs/operations.md lists them). */
export interface ListenerLimits {
  /** Close a client keep-alive connection idle this long, ms. */
  readonly keepAliveTimeoutMs: number;
  /** Time allowed to receive the request headers, ms. */
  readonly headersTimeoutMs: number;
  /** Close a connection on which nothing moved (no bytes in or out) this long, ms:
   * a client that stalls its upload or stops reading its download. */
  readonly inactivityTimeoutMs: number;
}

export const LISTENER_LIMITS: ListenerLimits = {
  keepAliveTimeoutMs: 65_000,
  headersTimeoutMs: 60_000,
  inactivityTimeoutMs: 65_000,
};

/** Node's clientError codes → the status Loom answers with. */
function clientErrorCode(err: NodeJS.ErrnoException): GatewayErrorCode {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return 'LOOM_ERR_HEADERS_TOO_LARGE';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'LOOM_ERR_REQUEST_TIMEOUT';
    default:
      return 'LOOM_ERR_BAD_REQUEST';
  }
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

export class HttpListener {
  config: ListenerConfig;
  readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly logger: Logger;
  /** Set by drain(): responses then carry `Connection: close`. Read per request. */
  draining = false;

  constructor(config: ListenerConfig, ctx: Omit<RequestHandlerContext, 'listener'>, logger: Logger, limits: ListenerLimits = LISTENER_LIMITS) {
    this.config = config;
    this.logger = logger;
    const handlerContext: RequestHandlerContext = { ...ctx, listener: this };
    this.server = createServer({ noDelay: true, requestTimeout: 0, headersTimeout: limits.headersTimeoutMs }, (req, res) =>
      handleRequest(handlerContext, req, res),
    );
    this.server.keepAliveTimeout = limits.keepAliveTimeoutMs;
    // Without a 'timeout' listener Node destroys the socket when it fires.
    this.server.setTimeout(limits.inactivityTimeoutMs);
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (socket.writable && !socket.destroyed && err.code !== 'ECONNRESET') {
      const code = clientErrorCode(err);
      const { status, message } = ERROR_CODES[code];
      const body = JSON.stringify({ error: { code, status, message } });
      socket.end(
        `HTTP/1.1 ${status} ${REASONS[status]}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
      );
    } else {
      socket.destroy();
    }
    this.logger.debug({ err: err.code ?? err.message, listener: this.config.name }, 'client error');
  }

  listen(): Promise<void> {
    return listenOn(this.server, this.config.host, this.config.port);
  }

  address(): { host: string; port: number } | null {
    return boundAddress(this.server);
  }

  /**
   * Stops accepting and closes idle keep-alive connections at once; connections with a
   * request in flight close after their response (which carries `Connection: close`).
   * Resolves when every connection is gone.
   */
  drain(): Promise<void> {
    if (this.drained === null) {
      this.draining = true;
      this.drained = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeIdleConnections();
    }
    return this.drained;
  }

  private drained: Promise<void> | null = null;

  /** Forced: destroys every connection. */
  destroy(): void {
    this.draining = true;
    this.server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
  }

  get connections(): number {
    return this.sockets.size;
  }
}
