// A real HTTP upstream on 127.0.0.1:0 that records what reached it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly rawHeaders: readonly string[];
}

export interface TestUpstream {
  readonly name: string;
  readonly server: Server;
  readonly port: number;
  /** `127.0.0.1:port`, as an endpoint is written in the config. */
  readonly address: string;
  readonly seen: SeenRequest[];
  /** Every TCP connection ever accepted, and those open now. */
  connectionsAccepted: number;
  readonly openSockets: Set<Socket>;
  close(): Promise<void>;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, upstream: TestUpstream) => void;

/** Default handler: 200 JSON naming the upstream and echoing method, url and headers. */
export const echoHandler: UpstreamHandler = (req, res, upstream) => {
  const body = JSON.stringify({ upstream: upstream.name, method: req.method, url: req.url, headers: req.headers });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

export async function startUpstream(name: string, handler: UpstreamHandler = echoHandler): Promise<TestUpstream> {
  const server = createServer();
  const openSockets = new Set<Socket>();
  const upstream: TestUpstream = {
    name,
    server,
    port: 0,
    address: '',
    seen: [],
    connectionsAccepted: 0,
    openSockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of openSockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('connection', (socket: Socket) => {
    upstream.connectionsAccepted++;
    openSockets.add(socket);
    socket.once('close', () => openSockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    upstream.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders });
    handler(req, res, upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(upstream, { port, address: `127.0.0.1:${port}` });
  return upstream;
}

/** A port that was free a moment ago and has nothing listening (for connection-refused tests). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface HeldUpstream {
  readonly upstream: TestUpstream;
  /** Resolves once `n` requests have arrived (and are being held). */
  arrivals(n: number): Promise<void>;
  /** Lets every held request (and later ones) answer `200 ok`. */
  release(): void;
}

/** An upstream that holds every request until `release()`: for tests of concurrency limits. */
export async function startHeldUpstream(name: string): Promise<HeldUpstream> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let arrived = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const upstream = await startUpstream(name, (_req, res) => {
    arrived++;
    for (const w of waiters.filter((w) => w.n <= arrived)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    void gate.then(() => res.end('ok'));
  });
  return {
    upstream,
    release,
    arrivals: (n) => (arrived >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
}
