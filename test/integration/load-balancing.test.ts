// Load balancing through a running gateway with real upstreams.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { startGateway, configWith, type RunningGateway } from '../helpers/gateway.js';
import { send } from '../helpers/http-client.js';

function upstreamYaml(name: string, ups: TestUpstream[], extra: string): string {
  return `  - name: ${name}
    endpoints: [${ups.map((u) => `"${u.address}"`).join(', ')}]
${extra}`;
}

describe('load balancing end to end', () => {
  let ups: TestUpstream[];
  let gw: RunningGateway;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });

  before(async () => {
    ups = await Promise.all(['a', 'b', 'c'].map((n) => startUpstream(n)));
    const [a, b] = ups;
    gw = await startGateway(
      configWith(`
routes:
  - { id: rr, path: /rr/*, upstream: rr }
  - { id: w, path: /w/*, upstream: w }
  - { id: ch, path: /ch/*, upstream: ch }
  - { id: ip, path: /ip/*, upstream: ip }
  - { id: lc, path: /lc/*, upstream: lc }
upstreams:
${upstreamYaml('rr', ups, '    load_balancer: round_robin')}
${upstreamYaml('w', [a, b], `    load_balancer: weighted\n    weights:\n      "${a.address}": 70\n      "${b.address}": 30`)}
${upstreamYaml('ch', ups, '    load_balancer: consistent_hash\n    consistent_hash:\n      hash_key: "header:X-User"')}
${upstreamYaml('ip', ups, '    load_balancer: ip_hash')}
${upstreamYaml('lc', ups, '    load_balancer: least_conn')}
`),
    );
  });

  after(async () => {
    agent.destroy();
    await gw?.stop();
    await Promise.all(ups.map((u) => u.close()));
  });

  async function who(path: string, headers?: Record<string, string>): Promise<string> {
    const res = await send(gw.port, path, { agent, headers });
    assert.equal(res.status, 200);
    return res.json().upstream as string;
  }

  test('round_robin: a → b → c → a …', async () => {
    const order: string[] = [];
    for (let i = 0; i < 6; i++) order.push(await who('/rr/x'));
    const start = order.indexOf('a');
    const rotated = [...order.slice(start), ...order.slice(0, start)];
    assert.deepEqual(rotated, ['a', 'b', 'c', 'a', 'b', 'c']);
  });

  test('weighted 70/30 gives 70/30 within 2% over 1000 requests', async () => {
    const counts: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 1000; i++) counts[await who('/w/x')]++;
    assert.ok(Math.abs(counts.a / 1000 - 0.7) <= 0.02, JSON.stringify(counts));
    assert.ok(Math.abs(counts.b / 1000 - 0.3) <= 0.02, JSON.stringify(counts));
  });

  test('consistent_hash on a header: the same user always reaches the same endpoint, users spread', async () => {
    const owners = new Map<string, string>();
    for (let u = 0; u < 30; u++) owners.set(`user-${u}`, await who('/ch/x', { 'x-user': `user-${u}` }));
    for (const [user, owner] of owners) {
      for (let i = 0; i < 3; i++) assert.equal(await who('/ch/x', { 'x-user': user }), owner);
    }
    assert.ok(new Set(owners.values()).size >= 2, 'keys spread over more than one endpoint');
  });

  test('ip_hash: one client IP always reaches the same endpoint', async () => {
    const first = await who('/ip/x');
    for (let i = 0; i < 10; i++) assert.equal(await who('/ip/x'), first);
  });

  test('least_conn: while one endpoint holds slow requests, new ones go elsewhere', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slowUps = await Promise.all(
      ['s1', 's2'].map((n) =>
        startUpstream(n, (req, res, up) => {
          const answer = () => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ upstream: up.name }));
          };
          if (req.url?.startsWith('/hold')) void gate.then(answer);
          else answer();
        }),
      ),
    );
    const g = await startGateway(
      configWith(`
routes:
  - { id: lc, path: /*, upstream: lc }
upstreams:
${upstreamYaml('lc', slowUps, '    load_balancer: least_conn')}
`),
    );
    try {
      // Two held requests: least_conn puts one on each endpoint.
      const held = [send(g.port, '/hold'), send(g.port, '/hold')];
      while (slowUps[0].seen.length + slowUps[1].seen.length < 2) await new Promise((r) => setImmediate(r));
      assert.equal(slowUps[0].seen.length, 1);
      assert.equal(slowUps[1].seen.length, 1);
      // A third held request lands on one of them; then quick requests must avoid that one.
      const third = send(g.port, '/hold');
      while (slowUps[0].seen.length + slowUps[1].seen.length < 3) await new Promise((r) => setImmediate(r));
      const counts = slowUps.map((u) => u.seen.length as number);
      const busier = counts[0] === 2 ? 's1' : 's2';
      for (let i = 0; i < 5; i++) {
        const res = await send(g.port, '/quick');
        assert.notEqual(res.json().upstream, busier);
      }
      release();
      await Promise.all([...held, third]);
    } finally {
      await g.stop();
      await Promise.all(slowUps.map((u) => u.close()));
    }
  });
});
