#!/usr/bin/env node
// Side-by-side benchmark: Loom against nginx, fast-gateway, @fastify/http-proxy (and optionally
// HAProxy and Caddy), each proxying to the same nginx origin.
//
//   cd bench && npm install && node run.mjs [--rounds 3] [--duration 10] [--connections 50]
//        [--warmup 2] [--only loom,nginx,fast-gateway,fastify] [--scenario small,big]
//        [--timeout 10] [--loom-log file|null] [--loom-log-level info] [--loom-main PATH]
//        [--loom-baseline-main PATH]   (another build of Loom, run as `loom-baseline`)
//        [--out FILE] [--keep-temp]
//
// Layout: origin nginx + wrk on CPU 0, the proxy under test on CPU 1 (taskset). Every proxy is
// started once and kept running; within a round the proxies run one after another, and the order
// rotates from round to round so slow drift on a shared machine does not favour one of them.
// For each measurement the harness records wrk's figures, the CPU time the proxy's process tree
// used during the measured window (/proc/PID/stat utime+stime) and the busy/steal share of both
// CPUs (/proc/stat). Plain Node ESM, no dependencies: runs without a build step.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, rmSync, existsSync, openSync, closeSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir, cpus } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import http from 'node:http';

const HERE = dirname(fileURLToPath(import.meta.url));
const PEERS = join(HERE, 'peers');

// ---------------------------------------------------------------------------------------------
// Flags

const DEFAULT_ONLY = ['loom', 'nginx', 'fast-gateway', 'fastify'];
const ALL_PROXIES = ['loom', 'loom-nolog', 'loom-nometrics', 'loom-resilience', 'loom-baseline', 'nginx', 'fast-gateway', 'fastify', 'haproxy', 'caddy'];
const ALIASES = { fg: 'fast-gateway', 'fastify-http-proxy': 'fastify', '@fastify/http-proxy': 'fastify' };
const SCENARIOS = {
  small: { path: '/api/hello', what: 'tiny body (2 bytes), request rate' },
  big: { path: '/big', what: '1 MiB body, throughput' },
};

function parseArgs(argv) {
  const o = {
    rounds: 3, duration: 10, connections: 50, warmup: 2, threads: 1, timeout: 10,
    only: null, scenario: ['small', 'big'], loomLog: 'file', loomLogLevel: 'info',
    loomMain: resolve(HERE, '..', 'dist', 'src', 'main.js'), loomBaselineMain: null, out: null, keepTemp: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [k, inline] = a.startsWith('--') && a.includes('=') ? a.split(/=(.*)/s) : [a, undefined];
    const val = () => (inline !== undefined ? inline : argv[++i]);
    switch (k) {
      case '--rounds': o.rounds = posInt(k, val()); break;
      case '--duration': o.duration = posInt(k, val()); break;
      case '--connections': o.connections = posInt(k, val()); break;
      case '--warmup': o.warmup = Number(val()); break;
      case '--threads': o.threads = posInt(k, val()); break;
      case '--timeout': o.timeout = posInt(k, val()); break;
      case '--loom-log-level': o.loomLogLevel = val(); break;
      case '--only': o.only = list(val()).map((p) => ALIASES[p] ?? p); break;
      case '--scenario': case '--scenarios': o.scenario = list(val()); break;
      case '--loom-log': o.loomLog = val(); break;
      case '--loom-main': o.loomMain = resolve(val()); break;
      case '--loom-baseline-main': o.loomBaselineMain = resolve(val()); break;
      case '--out': o.out = resolve(val()); break;
      case '--keep-temp': o.keepTemp = true; break;
      case '-h': case '--help':
        console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 9).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
        process.exit(0);
        break;
      default: throw new Error(`unknown flag ${a} (try --help)`);
    }
  }
  for (const p of o.only ?? []) if (!ALL_PROXIES.includes(p)) throw new Error(`unknown proxy "${p}"; known: ${ALL_PROXIES.join(', ')}`);
  for (const s of o.scenario) if (!SCENARIOS[s]) throw new Error(`unknown scenario "${s}"; known: ${Object.keys(SCENARIOS).join(', ')}`);
  if (!['file', 'null'].includes(o.loomLog)) throw new Error('--loom-log is "file" or "null"');
  return o;
}
const list = (s) => String(s).split(',').map((x) => x.trim()).filter(Boolean);
function posInt(k, v) {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${k} needs a positive integer, got ${v}`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: every child is started in its own process group and killed (group-wide,
// so nginx workers go too) on exit, error, SIGINT and SIGTERM.

const children = new Set();
let tempDir = null;
let keepTemp = false;

function start(name, cmd, args, { env, cwd, stdoutFile, stderrFile } = {}) {
  const out = stdoutFile ? openSync(stdoutFile, 'a') : 'ignore';
  const err = stderrFile ? openSync(stderrFile, 'a') : 'ignore';
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, cwd, detached: true, stdio: ['ignore', out, err] });
  if (typeof out === 'number') closeSync(out);
  if (typeof err === 'number') closeSync(err);
  child.name = name;
  child.exited = false;
  child.on('exit', (code, signal) => { child.exited = true; child.exitInfo = signal ?? code; children.delete(child); });
  child.on('error', (e) => { child.exited = true; child.exitInfo = e.message; children.delete(child); });
  children.add(child);
  return child;
}

function killGroup(child, sig) {
  try { process.kill(-child.pid, sig); } catch { try { child.kill(sig); } catch { /* gone */ } }
}

async function stopAll() {
  const list = [...children];
  for (const c of list) killGroup(c, 'SIGTERM');
  const deadline = Date.now() + 3000;
  while (list.some((c) => !c.exited) && Date.now() < deadline) await sleep(50);
  for (const c of list) if (!c.exited) killGroup(c, 'SIGKILL');
  // nginx workers whose master was killed are still in the group; make sure the group is gone.
  for (const c of list) { try { process.kill(-c.pid, 'SIGKILL'); } catch { /* already gone */ } }
}

function cleanupSync() {
  for (const c of children) { try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ } }
  if (tempDir && !keepTemp) { try { rmSync(tempDir, { recursive: true, force: true }); } catch { /* ignore */ } }
}
process.on('exit', cleanupSync);
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`\n${sig}: stopping all processes...\n`);
    await stopAll();
    process.exit(130);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Ports, readiness

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

function get(port, path, timeoutMs = 2000) {
  return new Promise((res, rej) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (r) => {
      let n = 0;
      const chunks = [];
      r.on('data', (c) => { n += c.length; if (chunks.length < 4) chunks.push(c); });
      r.on('end', () => res({ status: r.statusCode, length: n, head: Buffer.concat(chunks).subarray(0, 64).toString('latin1'), headers: r.headers }));
      r.on('error', rej);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
  });
}

async function waitReady(child, port, path, logFiles, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (child.exited) break;
    try {
      const r = await get(port, path, 1000);
      if (r.status === 200) return;
      last = `status ${r.status}`;
    } catch (e) { last = e.message; }
    await sleep(100);
  }
  const logs = logFiles.filter(existsSync).map((f) => `--- ${f}\n${tail(readFileSync(f, 'utf8'), 2000)}`).join('\n');
  throw new Error(`${child.name} did not become ready on port ${port}${child.exited ? ` (exited: ${child.exitInfo})` : ''}; last: ${last}\n${logs}`);
}
const tail = (s, n) => (s.length > n ? '…' + s.slice(-n) : s);

// ---------------------------------------------------------------------------------------------
// CPU accounting

const CLK_TCK = (() => { try { return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { return 100; } })();

/** utime+stime (ticks) per pid for `root` and all its descendants. */
function treeTicks(root) {
  const byParent = new Map();
  const ticks = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${d}/stat`, 'utf8'); } catch { continue; }
    // Fields after the ")" that closes comm: state(3) ppid(4) ... utime(14) stime(15).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(d);
    const ppid = Number(f[1]);
    ticks.set(pid, Number(f[11]) + Number(f[12]));
    if (!byParent.has(ppid)) byParent.set(ppid, []);
    byParent.get(ppid).push(pid);
  }
  const out = new Map();
  const stack = [root];
  while (stack.length) {
    const p = stack.pop();
    if (ticks.has(p)) out.set(p, ticks.get(p));
    for (const c of byParent.get(p) ?? []) stack.push(c);
  }
  return out;
}
function ticksDelta(a, b) {
  let sum = 0;
  for (const [pid, t] of b) sum += t - (a.get(pid) ?? t); // processes born mid-window: ignored
  return sum;
}

/** Per-CPU [busy, steal, total] jiffies from /proc/stat. */
function cpuStat() {
  const out = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2].split(/\s+/).map(Number);
    const total = user + nice + system + idle + iowait + irq + softirq + steal;
    out[m[1]] = { busy: user + nice + system + irq + softirq, steal, total };
  }
  return out;
}
function cpuShare(a, b, cpu) {
  const x = a[cpu], y = b[cpu];
  if (!x || !y || y.total === x.total) return null;
  const t = y.total - x.total;
  return { busy: (y.busy - x.busy) / t, steal: (y.steal - x.steal) / t };
}

// ---------------------------------------------------------------------------------------------
// wrk

function runWrk({ port, path, duration, connections, threads, timeout, latency }) {
  // wrk's default 2 s timeout drops and reconnects slow 1 MiB responses; count them as latency instead.
  const args = ['-c', '0', 'wrk', `-t${threads}`, `-c${connections}`, `-d${duration}s`, `--timeout`, `${timeout}s`];
  if (latency) args.push('--latency');
  args.push(`http://127.0.0.1:${port}${path}`);
  // Through bash so that `times` reports the CPU wrk itself used (user+sys of the shell's children).
  const script = 'taskset "$@"; rc=$?; echo "@@times" >&2; times >&2; exit $rc';
  return new Promise((res, rej) => {
    const p = spawn('bash', ['-c', script, 'bash', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(p);
    p.exited = false;
    p.name = 'wrk';
    let out = '', err = '';
    p.stdout.on('data', (c) => { out += c; });
    p.stderr.on('data', (c) => { err += c; });
    p.on('error', (e) => { children.delete(p); rej(e); });
    p.on('exit', (code) => {
      p.exited = true;
      children.delete(p);
      const [wrkErr, times = ''] = err.split('@@times\n');
      if (code !== 0) return rej(new Error(`wrk exited ${code}: ${wrkErr || out}`));
      const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(times.trim());
      const cpuSeconds = m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : null;
      res({ out, cpuSeconds });
    });
  });
}

const LAT_UNITS = { us: 0.001, ms: 1, s: 1000, m: 60000, h: 3600000 };
const SIZE_UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
function latMs(s) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(s);
  return m ? Number(m[1]) * LAT_UNITS[m[2]] : null;
}

export function parseWrk(out) {
  const num = (re) => { const m = re.exec(out); return m ? Number(m[1]) : null; };
  const r = {
    requests: num(/(\d+) requests in/),
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: null, p75: null, p90: null, p99: null,
    mibps: null,
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0,
    socketErrors: 0,
  };
  const t = /Transfer\/sec:\s+([\d.]+)([KMGT]?B)/.exec(out);
  if (t) r.mibps = (Number(t[1]) * SIZE_UNITS[t[2]]) / 1024 ** 2;
  for (const [, pct, v] of out.matchAll(/^\s+(50|75|90|99)%\s+(\S+)/gm)) r[`p${pct}`] = latMs(v);
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (se) r.socketErrors = se.slice(1).reduce((a, b) => a + Number(b), 0);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Proxies

function render(template, vars) {
  return readFileSync(join(PEERS, template), 'utf8').replace(/\{\{(\w+)\}\}/g, (_, k) => {
    if (!(k in vars)) throw new Error(`${template}: no value for {{${k}}}`);
    return String(vars[k]);
  });
}
const USER_LINE = process.getuid?.() === 0 ? 'user root;' : '';
function nginxDirs(dir) {
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) mkdirSync(join(dir, d), { recursive: true });
}

/** Loom as shipped: `-log-level <level>`, stdout (JSON logs, access log at info) to a file. */
function loomProxy(name, label, levelOf, template = 'loom.yaml', mainOf = (o) => o.loomMain) {
  return {
    label,
    available: (o) => {
      const main = mainOf(o);
      if (main === null) return `no build given (--loom-baseline-main PATH)`;
      return existsSync(main) ? null : `${main} not found (build Loom: cd /work/main && npx tsc -p tsconfig.json)`;
    },
    async start({ dir, originPort, opts }) {
      const port = await freePort();
      const cfg = join(dir, `${name}.yaml`);
      writeFileSync(cfg, render(template, { DIR: dir, PORT: port, ORIGIN_PORT: originPort }));
      const stdoutFile = opts.loomLog === 'null' ? '/dev/null' : join(dir, `${name}.stdout.log`);
      const stderrFile = join(dir, `${name}.stderr.log`);
      const main = mainOf(opts);
      const child = start(name, 'taskset', ['-c', '1', process.execPath, main, '-config', cfg, '-log-level', levelOf(opts)],
        { stdoutFile, stderrFile, cwd: dirname(dirname(dirname(main))), env: { NODE_ENV: 'production' } });
      return { child, port, logs: [stderrFile, stdoutFile].filter((f) => f !== '/dev/null') };
    },
  };
}

/** Each entry: start(ctx) → { child, port, logs: [files] }. All run on CPU 1 except the origin. */
const PROXIES = {
  loom: loomProxy('loom', 'Loom', (o) => o.loomLogLevel),
  // The same Loom with the access log off (log level warn): run beside `loom` to see what logging costs.
  'loom-nolog': loomProxy('loom-nolog', 'Loom (log-level warn)', () => 'warn'),
  // The same Loom with `metrics.enabled: false`: run beside `loom` to see what metrics cost.
  'loom-nometrics': loomProxy('loom-nometrics', 'Loom (metrics off)', (o) => o.loomLogLevel, 'loom-nometrics.yaml'),
  // Another build of Loom (--loom-baseline-main), same config as `loom` minus keys it may
  // not know: run beside `loom` to compare two versions in one run.
  'loom-baseline': loomProxy('loom-baseline', 'Loom (baseline build)', (o) => o.loomLogLevel, 'loom-baseline.yaml', (o) => o.loomBaselineMain),
  // The same Loom with health checks, outlier detection, a circuit breaker and retries on:
  // run beside `loom` to see what the resilience state costs on the hot path.
  'loom-resilience': loomProxy('loom-resilience', 'Loom (resilience on)', (o) => o.loomLogLevel, 'loom-resilience.yaml'),
  nginx: {
    label: 'nginx',
    available: () => which('nginx'),
    async start({ dir, originPort }) {
      const port = await freePort();
      const d = join(dir, 'nginx-proxy');
      nginxDirs(d);
      writeFileSync(join(d, 'nginx.conf'), render('nginx-proxy.conf', { DIR: d, PORT: port, ORIGIN_PORT: originPort, USER: USER_LINE }));
      const stderrFile = join(d, 'stderr.log');
      const child = start('nginx', 'taskset', ['-c', '1', 'nginx', '-p', d, '-c', join(d, 'nginx.conf'), '-e', 'stderr'], { stderrFile });
      return { child, port, logs: [stderrFile] };
    },
  },
  'fast-gateway': {
    label: 'fast-gateway',
    available: () => (existsSync(join(HERE, 'node_modules', 'fast-gateway')) ? null : 'bench/node_modules missing (cd bench && npm install)'),
    async start({ dir, originPort }) {
      const port = await freePort();
      const stderrFile = join(dir, 'fast-gateway.stderr.log');
      const child = start('fast-gateway', 'taskset', ['-c', '1', process.execPath, join(PEERS, 'fast-gateway.mjs'), port, originPort],
        { stderrFile, stdoutFile: stderrFile, cwd: HERE, env: { NODE_ENV: 'production' } });
      return { child, port, logs: [stderrFile] };
    },
  },
  fastify: {
    label: '@fastify/http-proxy',
    available: () => (existsSync(join(HERE, 'node_modules', '@fastify', 'http-proxy')) ? null : 'bench/node_modules missing (cd bench && npm install)'),
    async start({ dir, originPort }) {
      const port = await freePort();
      const stderrFile = join(dir, 'fastify.stderr.log');
      const child = start('fastify', 'taskset', ['-c', '1', process.execPath, join(PEERS, 'fastify-http-proxy.mjs'), port, originPort],
        { stderrFile, stdoutFile: stderrFile, cwd: HERE, env: { NODE_ENV: 'production' } });
      return { child, port, logs: [stderrFile] };
    },
  },
  haproxy: {
    label: 'HAProxy',
    available: () => which('haproxy'),
    async start({ dir, originPort }) {
      const port = await freePort();
      const d = join(dir, 'haproxy');
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'haproxy.cfg'), render('haproxy.cfg', { DIR: d, PORT: port, ORIGIN_PORT: originPort }));
      const stderrFile = join(d, 'stderr.log');
      const child = start('haproxy', 'taskset', ['-c', '1', 'haproxy', '-db', '-f', join(d, 'haproxy.cfg')], { stderrFile, stdoutFile: stderrFile });
      return { child, port, logs: [stderrFile] };
    },
  },
  caddy: {
    label: 'Caddy (GOMAXPROCS=1)',
    available: () => which('caddy'),
    async start({ dir, originPort }) {
      const port = await freePort();
      const d = join(dir, 'caddy');
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'Caddyfile'), render('Caddyfile', { DIR: d, PORT: port, ORIGIN_PORT: originPort }));
      const stderrFile = join(d, 'stderr.log');
      const child = start('caddy', 'taskset', ['-c', '1', 'caddy', 'run', '--adapter', 'caddyfile', '--config', join(d, 'Caddyfile')], {
        stderrFile, stdoutFile: stderrFile, cwd: d,
        env: { GOMAXPROCS: '1', HOME: d, XDG_DATA_HOME: join(d, 'data'), XDG_CONFIG_HOME: join(d, 'config') },
      });
      return { child, port, logs: [stderrFile] };
    },
  },
};
const NODE_PEERS = ['fast-gateway', 'fastify'];

function which(bin) {
  try { execFileSync('which', [bin], { stdio: 'ignore' }); return null; } catch { return `${bin} not installed (apt-get install -y nginx-light haproxy caddy wrk)`; }
}

async function startOrigin(dir) {
  const d = join(dir, 'origin');
  const www = join(d, 'www');
  nginxDirs(d);
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, 'big'), randomBytes(1024 * 1024));
  const port = await freePort();
  writeFileSync(join(d, 'nginx.conf'), render('nginx-origin.conf', { DIR: d, WWW: www, PORT: port, USER: USER_LINE }));
  const stderrFile = join(d, 'stderr.log');
  const child = start('origin', 'taskset', ['-c', '0', 'nginx', '-p', d, '-c', join(d, 'nginx.conf'), '-e', 'stderr'], { stderrFile });
  await waitReady(child, port, '/api/hello', [stderrFile]);
  return { child, port };
}

/** Both routes must answer like the origin does, or the figures compare different work. */
async function checkProxy(name, port) {
  const small = await get(port, SCENARIOS.small.path);
  if (small.status !== 200 || small.head !== 'ok') throw new Error(`${name}: GET ${SCENARIOS.small.path} → ${small.status} ${JSON.stringify(small.head)} (want 200 "ok")`);
  const big = await get(port, SCENARIOS.big.path, 5000);
  if (big.status !== 200 || big.length !== 1024 * 1024) throw new Error(`${name}: GET ${SCENARIOS.big.path} → ${big.status}, ${big.length} bytes (want 200, 1048576)`);
}

// ---------------------------------------------------------------------------------------------
// Statistics and the report

const median = (xs) => {
  const v = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const fmtInt = (x) => (x == null ? '–' : Math.round(x).toLocaleString('en-US'));
const fmtMs = (x) => (x == null ? '–' : x < 1 ? `${(x * 1000).toFixed(0)} µs` : `${x.toFixed(2)} ms`);
const fmtPct = (x) => (x == null ? '–' : `${(x * 100).toFixed(0)}%`);
const fmtRatio = (x) => (x == null ? '–' : `${x.toFixed(2)}×`);
const fmtMiB = (x) => (x == null ? '–' : x.toFixed(0));

function summarize(runs, proxies, scenario) {
  const rows = proxies.map((p) => {
    const rs = runs.filter((r) => r.proxy === p && r.scenario === scenario && !r.error);
    const rps = median(rs.map((r) => r.wrk.rps));
    const cpu = median(rs.map((r) => r.proxyCpu));
    return {
      proxy: p, n: rs.length, rps, cpu,
      rpsPerCore: median(rs.map((r) => (r.proxyCpu > 0 ? r.wrk.rps / r.proxyCpu : null))),
      mibps: median(rs.map((r) => r.wrk.mibps)),
      mibpsPerCore: median(rs.map((r) => (r.proxyCpu > 0 ? r.wrk.mibps / r.proxyCpu : null))),
      p50: median(rs.map((r) => r.wrk.p50)), p99: median(rs.map((r) => r.wrk.p99)),
      spread: rs.length > 1 ? (Math.max(...rs.map((r) => r.wrk.rps)) - Math.min(...rs.map((r) => r.wrk.rps))) / rps : null,
      errors: rs.reduce((a, r) => a + r.wrk.non2xx + r.wrk.socketErrors, 0),
      loadCpu0: median(rs.map((r) => r.cpu0?.busy)),
      loadSide: median(rs.map((r) => (r.wrkCpu == null ? null : r.wrkCpu + r.originCpu))),
      foreign: median(rs.map((r) => r.foreignCpu)),
      steal: median(rs.map((r) => Math.max(r.cpu0?.steal ?? 0, r.cpu1?.steal ?? 0))),
    };
  });
  const key = scenario === 'big' ? 'mibps' : 'rps';
  const ref = rows.find((r) => r.proxy === 'nginx')?.[key];
  const nodeRows = rows.filter((r) => NODE_PEERS.includes(r.proxy) && r[key] != null);
  const bestNode = nodeRows.sort((a, b) => b[key] - a[key])[0];
  for (const r of rows) {
    r.vsNginx = ref && r[key] != null ? r[key] / ref : null;
    r.vsBestNode = bestNode && r[key] != null ? r[key] / bestNode[key] : null;
  }
  return { rows, bestNode: bestNode?.proxy ?? null };
}

/**
 * Per-round ratios of `a` to `b` (each round runs them minutes apart at most, so a shared,
 * drifting machine affects both alike): median, min and max over the rounds both finished.
 */
function pairedRatio(runs, scenario, a, b) {
  const key = scenario === 'big' ? 'mibps' : 'rps';
  const value = (p, round) => runs.find((r) => r.proxy === p && r.scenario === scenario && r.round === round && !r.error)?.wrk[key];
  const ratios = [...new Set(runs.filter((r) => r.scenario === scenario).map((r) => r.round))]
    .map((round) => [value(a, round), value(b, round)])
    .filter(([va, vb]) => va != null && vb)
    .map(([va, vb]) => va / vb);
  return ratios.length ? { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), n: ratios.length } : null;
}

/** Paired ratios of every Loom variant to nginx, to the best Node peer, and (variants) to `loom`. */
function pairedTable(runs, summary, scenario) {
  const present = new Set(summary.rows.filter((r) => r.n).map((r) => r.proxy));
  const lines = [];
  for (const a of summary.rows.map((r) => r.proxy).filter((p) => p.startsWith('loom') && present.has(p))) {
    const refs = [...(present.has('nginx') ? ['nginx'] : []), ...(summary.bestNode ? [summary.bestNode] : []), ...(a !== 'loom' && present.has('loom') ? ['loom'] : [])];
    for (const b of refs) {
      const r = pairedRatio(runs, scenario, a, b);
      if (r) lines.push(`| ${PROXIES[a].label} | ${PROXIES[b].label} | ${fmtRatio(r.median)} | ${fmtRatio(r.min)}–${fmtRatio(r.max)} | ${r.n} |`);
    }
  }
  if (!lines.length) return '';
  return `\nPer-round ratios (the two ran back to back in each round; median over rounds):\n\n| proxy | to | median ratio | range | rounds |\n|---|---|---:|---:|---:|\n${lines.join('\n')}\n`;
}

function table(summary, scenario) {
  const big = scenario === 'big';
  const head = ['proxy', 'req/s', 'p50', 'p99', ...(big ? ['MiB/s', 'MiB/s per core'] : ['req/s per core']), 'proxy CPU', 'wrk+origin CPU', 'CPU0 busy', 'foreign CPU', 'vs nginx', `vs best Node peer${summary.bestNode ? ` (${PROXIES[summary.bestNode].label})` : ''}`, 'spread', 'errors'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of summary.rows) {
    if (!r.n) { lines.push(`| ${PROXIES[r.proxy].label} | no successful run |${' |'.repeat(head.length - 2)}`); continue; }
    lines.push(`| ${[
      PROXIES[r.proxy].label, fmtInt(r.rps), fmtMs(r.p50), fmtMs(r.p99),
      ...(big ? [fmtMiB(r.mibps), fmtMiB(r.mibpsPerCore)] : [fmtInt(r.rpsPerCore)]),
      fmtPct(r.cpu), fmtPct(r.loadSide), fmtPct(r.loadCpu0), fmtPct(r.foreign), fmtRatio(r.vsNginx), fmtRatio(r.vsBestNode),
      r.spread == null ? '–' : `±${((r.spread / 2) * 100).toFixed(0)}%`, String(r.errors),
    ].join(' | ')} |`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  keepTemp = opts.keepTemp;
  if (cpus().length < 2) console.warn('warning: fewer than 2 CPUs; the CPU 0 / CPU 1 split does not hold');
  for (const bin of ['taskset', 'wrk', 'nginx']) {
    const why = which(bin);
    if (why) throw new Error(why);
  }

  const requested = opts.only ?? DEFAULT_ONLY;
  const proxies = [];
  const skipped = [];
  for (const p of requested) {
    const why = PROXIES[p].available(opts);
    if (!why) proxies.push(p);
    else if (opts.only) throw new Error(`${p}: ${why}`);
    else { skipped.push(p); console.warn(`skipping ${p}: ${why}`); }
  }
  if (!proxies.length) throw new Error('nothing to benchmark');

  tempDir = mkdtempSync(join(tmpdir(), 'loom-bench-'));
  chmodSync(tempDir, 0o755);
  console.log(`temp dir: ${tempDir}${opts.keepTemp ? ' (kept)' : ''}`);

  const origin = await startOrigin(tempDir);
  console.log(`origin nginx on 127.0.0.1:${origin.port} (CPU 0)`);

  const running = {};
  for (const p of proxies) {
    const r = await PROXIES[p].start({ dir: tempDir, originPort: origin.port, opts });
    await waitReady(r.child, r.port, SCENARIOS.small.path, r.logs);
    await checkProxy(p, r.port);
    running[p] = r;
    console.log(`${PROXIES[p].label.padEnd(22)} on 127.0.0.1:${r.port} (CPU 1), pid ${r.child.pid}`);
  }

  const meta = {
    date: new Date().toISOString(),
    command: `node run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    options: { ...opts, only: proxies },
    skipped,
    node: process.version,
    cpu: cpus()[0]?.model,
    cpus: cpus().length,
    versions: versions(),
    layout: 'origin nginx + wrk on CPU 0; proxy under test on CPU 1',
  };

  const runs = [];
  const total = opts.rounds * opts.scenario.length * proxies.length;
  let done = 0;
  for (let round = 0; round < opts.rounds; round++) {
    const order = proxies.map((_, i) => proxies[(i + round) % proxies.length]);
    for (const scenario of opts.scenario) {
      for (const p of order) {
        const { child, port } = running[p];
        if (child.exited) throw new Error(`${p} exited (${child.exitInfo}); see ${running[p].logs.join(', ')}`);
        const path = SCENARIOS[scenario].path;
        const run = { round: round + 1, scenario, proxy: p, path };
        try {
          if (opts.warmup > 0) await runWrk({ port, path, duration: opts.warmup, connections: opts.connections, threads: opts.threads, timeout: opts.timeout, latency: false });
          const t0 = treeTicks(child.pid), o0 = treeTicks(origin.child.pid), c0 = cpuStat(), w0 = process.hrtime.bigint();
          const { out, cpuSeconds: wrkCpuSeconds } = await runWrk({ port, path, duration: opts.duration, connections: opts.connections, threads: opts.threads, timeout: opts.timeout, latency: true });
          const t1 = treeTicks(child.pid), o1 = treeTicks(origin.child.pid), c1 = cpuStat(), w1 = process.hrtime.bigint();
          const wall = Number(w1 - w0) / 1e9;
          run.wall = wall;
          run.wrk = parseWrk(out);
          run.proxyCpu = ticksDelta(t0, t1) / CLK_TCK / wall;
          run.originCpu = ticksDelta(o0, o1) / CLK_TCK / wall;
          run.cpu0 = cpuShare(c0, c1, '0');
          run.cpu1 = cpuShare(c0, c1, '1');
          run.wrkCpu = wrkCpuSeconds == null ? null : wrkCpuSeconds / wall;
          // CPU (in cores, of 2) used by anything but proxy, origin and wrk: other tenants' noise.
          run.foreignCpu = run.cpu0 && run.cpu1 && run.wrkCpu != null
            ? Math.max(0, run.cpu0.busy + run.cpu1.busy - run.proxyCpu - run.originCpu - run.wrkCpu) : null;
          run.raw = out;
          if (child.exited) throw new Error(`${p} exited during the run (${child.exitInfo})`);
        } catch (e) {
          run.error = e.message;
        }
        if (stopping) await new Promise(() => {}); // the signal handler is tearing down and exits
        runs.push(run);
        done++;
        const w = run.wrk;
        console.log(`[${done}/${total}] round ${run.round} ${scenario.padEnd(5)} ${PROXIES[p].label.padEnd(22)} ` + (run.error
          ? `ERROR ${run.error}`
          : `${fmtInt(w.rps).padStart(7)} req/s  ${scenario === 'big' ? `${fmtMiB(w.mibps).padStart(5)} MiB/s  ` : ''}p50 ${fmtMs(w.p50)}  p99 ${fmtMs(w.p99)}  proxy CPU ${fmtPct(run.proxyCpu)}  wrk+origin ${fmtPct(run.wrkCpu == null ? null : run.wrkCpu + run.originCpu)}  foreign ${fmtPct(run.foreignCpu)}` +
            (w.non2xx + w.socketErrors ? `  errors ${w.non2xx + w.socketErrors}` : '')));
      }
    }
  }

  await stopAll();

  const summaries = {};
  let report = `## Loom bench, ${meta.date.slice(0, 10)}\n\n` +
    `\`${meta.command}\` — ${meta.cpus}× ${meta.cpu}, Node ${meta.node}; ${meta.layout}; ` +
    `wrk -t${opts.threads} -c${opts.connections} -d${opts.duration}s --timeout ${opts.timeout}s --latency after a ${opts.warmup} s warm-up, ${opts.rounds} interleaved round(s), medians.\n`;
  for (const s of opts.scenario) {
    summaries[s] = summarize(runs, proxies, s);
    report += `\n### ${s}: GET ${SCENARIOS[s].path} — ${SCENARIOS[s].what}\n\n${table(summaries[s], s)}\n${pairedTable(runs, summaries[s], s)}`;
  }
  report += '\n"per core" = figure ÷ the CPU share the proxy process tree actually used (utime+stime from /proc/PID/stat over the measured window). ' +
    '"wrk+origin CPU" near 100% (or "CPU0 busy" near 100%) means the load side is the limit and the proxy figure is a floor. ' +
    '"foreign CPU" = busy time on both CPUs not used by proxy, origin or wrk (other tenants), in % of one core. ' +
    '"vs" ratios use req/s (small) or MiB/s (big). "spread" = half the min–max range of req/s across rounds.\n';
  console.log('\n' + report);

  const outFile = opts.out ?? join(HERE, 'out', `bench-${meta.date.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ meta, summaries, runs }, null, 2));
  console.log(`raw rounds: ${outFile}`);
  const failed = runs.filter((r) => r.error).length;
  if (failed) { console.error(`${failed} run(s) failed`); process.exitCode = 1; }
}

function versions() {
  const v = {};
  const tryCmd = (k, cmd, args, re) => {
    try {
      const out = execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
      v[k] = (re.exec(out) ?? [])[1] ?? out.trim().split('\n')[0];
    } catch (e) { const s = `${e.stdout ?? ''}${e.stderr ?? ''}`; v[k] = (re.exec(s) ?? [])[1] ?? null; }
  };
  tryCmd('nginx', 'sh', ['-c', 'nginx -v 2>&1'], /nginx\/(\S+)/);
  tryCmd('wrk', 'sh', ['-c', 'wrk -v 2>&1'], /wrk (\S+)/);
  tryCmd('haproxy', 'haproxy', ['-v'], /version (\S+)/);
  tryCmd('caddy', 'caddy', ['version'], /^(v?\S+)/);
  for (const pkg of ['fast-gateway', 'fast-proxy-lite', '@fastify/http-proxy', '@fastify/reply-from', 'fastify', 'undici']) {
    try { v[pkg] = JSON.parse(readFileSync(join(HERE, 'node_modules', pkg, 'package.json'), 'utf8')).version; } catch { /* not installed */ }
  }
  return v;
}

main().catch(async (e) => {
  if (stopping) return;
  console.error(`error: ${e.message}`);
  await stopAll();
  process.exit(1);
});
