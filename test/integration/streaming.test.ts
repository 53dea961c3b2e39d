// 1 GiB up and 1 GiB down through the real `loom` process: bodies stream with
// backpressure, so the gateway's peak memory stays flat (far below the body size).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { startLoomProcess, writeTempConfig, type LoomProcess } from '../helpers/gateway-process.js';

const GiB = 1024 * 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024, 0x61);
/** Peak RSS allowed for the gateway process after moving 2 GiB: flat means tens of MB. */
const PEAK_RSS_LIMIT = 200 * 1024 * 1024;

describe('streaming 1 GiB bodies', () => {
  let up: TestUpstream;
  let loom: LoomProcess;

  before(async () => {
    up = await startUpstream('big', (req, res) => {
      if (req.method === 'POST') {
        let received = 0;
        req.on('data', (c: Buffer) => (received += c.length));
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(String(received));
        });
        return;
      }
      // GET: send 1 GiB, honouring backpressure.
      res.writeHead(200, { 'content-length': String(GiB) });
      let sent = 0;
      const pump = () => {
        while (sent < GiB) {
          sent += CHUNK.length;
          if (!res.write(CHUNK)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const file = writeTempConfig(`
listeners:
  - name: http
    address: "127.0.0.1:0"
routes:
  - id: big
    path: /*
    upstream: big
upstreams:
  - name: big
    endpoints: ["${up.address}"]
`);
    loom = await startLoomProcess(file);
  });

  after(async () => {
    loom?.child.kill('SIGTERM');
    await loom?.exited;
    await up?.close();
  });

  test('1 GiB download passes through with flat memory', async () => {
    const received = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: loom.port, path: '/download', agent: false }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => resolve(n));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(received, GiB);
    assert.ok(loom.peakRss() < PEAK_RSS_LIMIT, `peak RSS ${Math.round(loom.peakRss() / 1048576)} MiB`);
  });

  test('1 GiB upload passes through with flat memory', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: loom.port, path: '/upload', method: 'POST', agent: false, headers: { 'content-length': String(GiB) } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < GiB) {
          sent += CHUNK.length;
          if (!req.write(CHUNK)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    assert.equal(answer, String(GiB));
    assert.ok(loom.peakRss() < PEAK_RSS_LIMIT, `peak RSS ${Math.round(loom.peakRss() / 1048576)} MiB`);
  });
});
