// ActiveHealthChecker against real HTTP servers on 127.0.0.1 port 0. Rounds are driven
// with probeNow(); the only timer-driven tests wait for an event, never for a duration.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { HealthCheckConfig } from '../../src/config/types.js';
import { createEndpoint, type UpstreamEndpoint } from '../../src/upstream/endpoint.js';
import {
  ActiveHealthChecker,
  HEALTH_CHECK_USER_AGENT,
  resetActiveHealth,
} from '../../src/upstream/health/active-health-checker.js';

type Mode = 'ok' | 'fail' | 'hang' | { status: number };

interface Backend {
  readonly server: Server;
  readonly address: string;
  mode: Mode;
  readonly requests: { path: string; userAgent: string | undefined; method: string }[];
  readonly sockets: Set<Socket>;
  /** Resolves on the next request the server receives. */
  nextRequest(): Promise<void>;
  close(): Promise<void>;
}

async function startBackend(mode: Mode = 'ok'): Promise<Backend> {
  let waiters: (() => void)[] = [];
  const hanging: ServerResponse[] = [];
  const backend: Backend = {
    server: createServer((req: IncomingMessage, res: ServerResponse) => {
      backend.requests.push({ path: req.url ?? '', userAgent: req.headers['user-agent'], method: req.method ?? '' });
      const w = waiters;
      waiters = [];
      for (const f of w) f();
      const m = backend.mode;
      if (m === 'hang') {
        hanging.push(res);
        return;
      }
      const status = m === 'ok' ? 200 : m === 'fail' ? 500 : m.status;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('x'.repeat(64));
    }),
    address: '',
    mode,
    requests: [],
    sockets: new Set(),
    nextRequest: () => new Promise<void>((resolve) => waiters.push(resolve)),
    close: async () => {
      for (const res of hanging) res.destroy();
      backend.server.closeAllConnections();
      await new Promise<void>((resolve) => backend.server.close(() => resolve()));
    },
  };
  backend.server.on('connection', (socket: Socket) => {
    backend.sockets.add(socket);
    socket.on('close', () => backend.sockets.delete(socket));
  });
  await new Promise<void>((resolve) => backend.server.listen(0, '127.0.0.1', resolve));
  (backend as { address: string }).address = `127.0.0.1:${(backend.server.address() as AddressInfo).port}`;
  return backend;
}

/** An address nothing listens on: a port the OS gave us, then closed. */
async function refusedAddress(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

function config(overrides: Partial<HealthCheckConfig> = {}): HealthCheckConfig {
  return {
    path: '/health',
    interval: 60_000,
    timeout: 1_000,
    healthy_threshold: 2,
    unhealthy_threshold: 3,
    expected_status: 200,
    ...overrides,
  };
}

function changes(): { log: string[]; listener: (e: UpstreamEndpoint, healthy: boolean) => void } {
  const log: string[] = [];
  return { log, listener: (e, healthy) => log.push(`${e.index}:${healthy ? 'healthy' : 'unhealthy'}`) };
}

describe('ActiveHealthChecker', () => {
  it('marks an endpoint unhealthy exactly after unhealthy_threshold failed rounds and healthy after healthy_threshold successes', async () => {
    const backend = await startBackend('ok');
    const ep = createEndpoint(backend.address, 0);
    const { log, listener } = changes();
    const checker = new ActiveHealthChecker({ upstream: 'api', endpoints: [ep], config: config(), onChange: listener });
    try {
      await checker.probeNow();
      assert.equal(ep.healthy, true);
      assert.equal(ep.lastCheck?.ok, true);
      assert.equal(ep.lastCheck?.status, 200);

      backend.mode = 'fail';
      await checker.probeNow();
      await checker.probeNow();
      assert.equal(ep.healthy, true, 'two failures < threshold 3');
      assert.equal(ep.available, true);
      assert.equal(ep.lastCheck?.ok, false);
      assert.equal(ep.lastCheck?.status, 500);
      await checker.probeNow();
      assert.equal(ep.healthy, false);
      assert.equal(ep.available, false);
      assert.deepEqual(log, ['0:unhealthy']);

      await checker.probeNow(); // still failing: no new transition
      assert.deepEqual(log, ['0:unhealthy']);

      backend.mode = 'ok';
      await checker.probeNow();
      assert.equal(ep.healthy, false, 'one success < healthy_threshold 2');
      assert.equal(ep.available, false);
      await checker.probeNow();
      assert.equal(ep.healthy, true);
      assert.equal(ep.available, true);
      assert.deepEqual(log, ['0:unhealthy', '0:healthy']);
    } finally {
      await checker.close();
      await backend.close();
    }
  });

  it('a success in between resets the failure streak, a failure resets the success streak', async () => {
    const backend = await startBackend('fail');
    const ep = createEndpoint(backend.address, 0);
    const checker = new ActiveHealthChecker({ upstream: 'api', endpoints: [ep], config: config({ unhealthy_threshold: 2, healthy_threshold: 2 }) });
    try {
      await checker.probeNow(); // F
      backend.mode = 'ok';
      await checker.probeNow(); // S resets
      backend.mode = 'fail';
      await checker.probeNow(); // F
      assert.equal(ep.healthy, true);
      await checker.probeNow(); // F F → unhealthy
      assert.equal(ep.healthy, false);
      backend.mode = 'ok';
      await checker.probeNow(); // S
      backend.mode = 'fail';
      await checker.probeNow(); // F resets
      backend.mode = 'ok';
      await checker.probeNow(); // S
      assert.equal(ep.healthy, false);
      await checker.probeNow(); // S S → healthy
      assert.equal(ep.healthy, true);
    } finally {
      await checker.close();
      await backend.close();
    }
  });

  it('sends GET <path> with the loom-health-check user agent', async () => {
    const backend = await startBackend('ok');
    const checker = new ActiveHealthChecker({
      upstream: 'api',
      endpoints: [createEndpoint(backend.address, 0)],
      config: config({ path: '/internal/ready?deep=1' }),
    });
    try {
      await checker.probeNow();
      assert.deepEqual(backend.requests, [{ path: '/internal/ready?deep=1', userAgent: HEALTH_CHECK_USER_AGENT, method: 'GET' }]);
    } finally {
      await checker.close();
      await backend.close();
    }
  });

  it('honours expected_status other than 200 (and then 200 is a failure)', async () => {
    const backend = await startBackend({ status: 204 });
    const ep = createEndpoint(backend.address, 0);
    const checker = new ActiveHealthChecker({
      upstream: 'api',
      endpoints: [ep],
      config: config({ expected_status: 204, unhealthy_threshold: 1, healthy_threshold: 1 }),
    });
    try {
      await checker.probeNow();
      assert.equal(ep.lastCheck?.ok, true);
      assert.equal(ep.healthy, true);
      backend.mode = 'ok';
      await checker.probeNow();
      assert.equal(ep.lastCheck?.ok, false);
      assert.equal(ep.lastCheck?.status, 200);
      assert.equal(ep.healthy, false);
      backend.mode = { status: 204 };
      await checker.probeNow();
      assert.equal(ep.healthy, true);
    } finally {
      await checker.close();
      await backend.close();
    }
  });

  it('counts a refused connection as a failure', async () => {
    const ep = createEndpoint(await refusedAddress(), 0);
    const checker = new ActiveHealthChecker({ upstream: 'api', endpoints: [ep], config: config({ unhealthy_threshold: 2 }) });
    try {
      await checker.probeNow();
      assert.equal(ep.lastCheck?.ok, false);
      assert.equal(ep.lastCheck?.status, undefined);
      assert.equal(ep.lastCheck?.error, 'ECONNREFUSED');
      assert.equal(ep.healthy, true);
      await checker.probeNow();
      assert.equal(ep.healthy, false);
      assert.equal(ep.available, false);
    } finally {
      await checker.close();
    }
  });

  it('counts a probe without an answer within timeout as a failure', async () => {
    const backend = await startBackend('hang');
    const ep = createEndpoint(backend.address, 0);
    const checker = new ActiveHealthChecker({
      upstream: 'api',
      endpoints: [ep],
      config: config({ timeout: 100, unhealthy_threshold: 2, healthy_threshold: 1 }),
    });
    try {
      await checker.probeNow();
      assert.equal(ep.lastCheck?.ok, false);
      assert.equal(ep.lastCheck?.error, 'timeout');
      await checker.probeNow();
      assert.equal(ep.healthy, false);
      backend.mode = 'ok';
      await checker.probeNow(); // a fresh connection after the aborted one
      assert.equal(ep.healthy, true);
    } finally {
      await checker.close();
      await backend.close();
    }
  });

  it('checks every endpoint independently', async () => {
    const good = await startBackend('ok');
    const bad = await startBackend('fail');
    const eps = [createEndpoint(good.address, 0), createEndpoint(bad.address, 1), createEndpoint(await refusedAddress(), 2)];
    const { log, listener } = changes();
    const checker = new ActiveHealthChecker({ upstream: 'api', endpoints: eps, config: config({ unhealthy_threshold: 1 }), onChange: listener });
    try {
      await checker.probeNow();
      assert.deepEqual(eps.map((e) => e.available), [true, false, false]);
      assert.deepEqual(log.sort(), ['1:unhealthy', '2:unhealthy']);
    } finally {
      await checker.close();
      await good.close();
      await bad.close();
    }
  });

  it('leaves drained and ejected endpoints unavailable when it marks them healthy', async () => {
    const backend = await startBackend('fail');
    const ep = createEndpoint(backend.address, 0);
    const checker = new ActiveHealthChecker({ upstream: 'api', endpoints: [ep], config: config({ unhealthy_threshold: 1, healthy_threshold: 1 }) });
    try {
      await checker.probeNow();
      assert.equal(ep.available, false);
      ep.drained = true;
      backend.mode = 'ok';
      await checker.probeNow();
      assert.equal(ep.healthy, true);
      assert.equal(ep.available, false, 'still drained');
    } finally {
      await checker.close();
      await backend.close();
    }
  });

  it('start() probes at once and then every interval', async () => {
    const backend = await startBackend('ok');
    const ep = createEndpoint(backend.address, 0);
    const checker = new ActiveHealthChecker({ upstream: 'api', endpoints: [ep], config: config({ interval: 20, unhealthy_threshold: 2 }) });
    try {
      const first = backend.nextRequest();
      checker.start();
      await first;
      backend.mode = 'fail';
      // Waits for the transition, driven by the interval timer alone.
      await new Promise<void>((resolve) => {
        const poll = (): void => {
          if (!ep.healthy) resolve();
          else void backend.nextRequest().then(() => setImmediate(poll));
        };
        poll();
      });
      assert.equal(ep.available, false);
      assert.ok(backend.requests.length >= 3);
    } finally {
      await checker.close();
      await backend.close();
    }
  });

  it('close() aborts a hanging probe, changes nothing afterwards and closes its connections', async () => {
    const backend = await startBackend('hang');
    const ep = createEndpoint(backend.address, 0);
    const checker = new ActiveHealthChecker({
      upstream: 'api',
      endpoints: [ep],
      config: config({ timeout: 60_000, unhealthy_threshold: 1 }),
    });
    const arrived = backend.nextRequest();
    checker.start();
    await arrived;
    assert.equal(backend.sockets.size, 1);
    const socketsClosed = Promise.all(
      [...backend.sockets].map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())))),
    );
    await checker.close();
    await socketsClosed;
    assert.equal(ep.healthy, true, 'the aborted probe was not counted');
    assert.equal(ep.lastCheck, null);
    await checker.probeNow(); // no-op after close
    assert.equal(backend.requests.length, 1);
    await backend.close();
  });

  it('close() closes kept-alive probe connections (no open handles)', async () => {
    const backend = await startBackend('ok');
    const checker = new ActiveHealthChecker({ upstream: 'api', endpoints: [createEndpoint(backend.address, 0)], config: config() });
    await checker.probeNow();
    await checker.probeNow();
    assert.equal(backend.requests.length, 2);
    const socketsClosed = Promise.all(
      [...backend.sockets].map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())))),
    );
    await checker.close();
    await socketsClosed;
    assert.equal(backend.sockets.size, 0);
    await backend.close();
    // (A closed server's handle is still listed until libuv finishes closing it: not checked.)
    const handles = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'Timeout');
    assert.deepEqual(handles, []);
  });

  it('resetActiveHealth makes endpoints healthy again', async () => {
    const ep = createEndpoint('127.0.0.1:1', 0);
    ep.healthy = false;
    ep.available = false;
    ep.lastCheck = { at: 1, ok: false, error: 'ECONNREFUSED' };
    resetActiveHealth([ep]);
    assert.equal(ep.healthy, true);
    assert.equal(ep.available, true);
    assert.equal(ep.lastCheck, null);
  });
});
