#!/usr/bin/env node
// Instructions per proxied request, counted by valgrind's callgrind: a figure that holds
// still on a shared, noisy machine, where wall-clock benchmarks cannot resolve a few
// percent. Each Loom variant runs under `valgrind --tool=callgrind`, proxies N sequential
// GET /api/hello over one keep-alive connection to an origin in this process (2-byte
// body), and is stopped with SIGTERM; callgrind's total Ir (user-space instructions of all
// of Loom's threads: main, V8's compiler and GC workers; not the kernel's) covers start-up,
// warm-up, the requests and shutdown. Two estimates per variant:
//
//   two runs   (Ir(N2) - Ir(N1)) / (N2 - N1) over two processes, one run to N1 requests
//              and one to N2: cancels start-up and shutdown, and warm-up if N1 is past it.
//   chunks     in the N2 run, callgrind's live counters (`callgrind_control -e`) are read
//              after request N1 and every --chunk requests up to N2; the median per-request
//              Ir of those chunks. The figure to quote (repeats within ~±2%).
//
// Why two estimates (measured with Node 20.20 / valgrind 3.19, Dec 2026):
// - Warm-up (TurboFan compiling the request path on V8's worker threads) lasts ~4,000
//   requests under callgrind, hence N1 = 5000; with N1 = 2000 the two-run figure is
//   mostly compiler work (~240k instead of ~180k per request) and varies ±5-10%.
// - Two processes differ by ~100M instructions at the same request count (how much gets
//   compiled, and when, depends on thread timing): ±5% on the two-run figure.
// - V8's memory reducer fires on wall-clock time and a low allocation rate per ms; under
//   valgrind (~50x slower) it fires mid-run, its "Mark-Compact (reduce)" flushes code, and
//   the next ~500-4,000 requests cost 1.5-3.5x while everything is recompiled (an artifact
//   of the slowdown: at native speed, under load, the allocation rate keeps it off). The
//   chunk median skips those chunks; `--node-arg --no-memory-reducer` removes them (then
//   the chunks are flat to a few %), at the price of running V8 with a non-default flag.
//
//   node bench/instructions.mjs [--n1 5000] [--n2 15000] [--chunk 500] [--repeat 1]
//        [--only loom,loom-nometrics,loom-baseline] [--main dist/src/main.js]
//        [--baseline-main PATH] [--keep-temp] [--json FILE] [--node-arg ARG]... [--valgrind-arg ARG]...
//
// Variants: `loom` (the build at --main, as shipped: metrics on, access log at info to a
// file), `loom-nometrics` (the same with `metrics.enabled: false`), `loom-baseline`
// (another build, --baseline-main, with a config without admin/metrics keys, which older
// builds reject). Runs are interleaved: every variant at N1, then every variant at N2, per
// repeat. No dependencies beyond node: built-ins (and valgrind's callgrind_control).

import { spawn, execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, statSync, existsSync, openSync, closeSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const ALL_VARIANTS = ['loom', 'loom-nometrics', 'loom-baseline'];

const STARTUP_TIMEOUT_MS = 240_000; // node under valgrind: start-up can take a minute
const REQUEST_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 300_000; // graceful shutdown + callgrind writing its output

// ---------------------------------------------------------------------------------------------
// CLI

function usage(msg) {
  if (msg) process.stderr.write(`instructions.mjs: ${msg}\n`);
  process.stderr.write(
    'usage: node bench/instructions.mjs [--n1 5000] [--n2 15000] [--chunk 500] [--repeat 1] [--only loom,loom-nometrics,loom-baseline]\n' +
      '       [--main dist/src/main.js] [--baseline-main PATH] [--keep-temp] [--json FILE]\n' +
      '       [--node-arg ARG]... [--valgrind-arg ARG]...   (extra flags for node / valgrind, e.g. --node-arg --no-memory-reducer)\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = { n1: 5000, n2: 15000, chunk: 500, repeat: 1, only: null, main: join(ROOT, 'dist/src/main.js'), baselineMain: null, keepTemp: false, valgrindArgs: [], nodeArgs: [], json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    const int = () => {
      const v = Number(val());
      if (!Number.isInteger(v) || v < 0) usage(`${a} needs a non-negative integer`);
      return v;
    };
    switch (a) {
      case '--n1': o.n1 = int(); break;
      case '--n2': o.n2 = int(); break;
      case '--repeat': o.repeat = int(); break;
      case '--chunk': o.chunk = int(); break;
      case '--only': o.only = val().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--main': o.main = resolve(val()); break;
      case '--baseline-main': o.baselineMain = resolve(val()); break;
      case '--keep-temp': o.keepTemp = true; break;
      case '--valgrind-arg': o.valgrindArgs.push(val()); break;
      case '--node-arg': o.nodeArgs.push(val()); break;
      case '--json': o.json = resolve(val()); break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument ${a}`);
    }
  }
  if (o.n2 <= o.n1) usage('--n2 must be greater than --n1');
  if (o.repeat < 1) usage('--repeat must be at least 1');
  if (o.chunk > o.n2 - o.n1) usage('--chunk must be at most N2 - N1 (0: no in-run samples)');
  const variants = o.only ?? ALL_VARIANTS.filter((v) => v !== 'loom-baseline' || o.baselineMain !== null);
  for (const v of variants) if (!ALL_VARIANTS.includes(v)) usage(`unknown variant ${v} (one of ${ALL_VARIANTS.join(', ')})`);
  if (variants.includes('loom-baseline') && o.baselineMain === null) usage('loom-baseline needs --baseline-main PATH');
  o.variants = variants;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Configs

function baseConfig(originPort) {
  return [
    'listeners:',
    '  - name: http',
    '    address: "127.0.0.1:0"',
    '    protocol: http',
    'routes:',
    '  - id: api',
    '    path: /api/*',
    '    upstream: origin',
    'upstreams:',
    '  - name: origin',
    `    endpoints: ["127.0.0.1:${originPort}"]`,
    '',
  ].join('\n');
}

const ADMIN = 'admin:\n  address: "127.0.0.1:0"\n';
const VARIANTS = {
  loom: { main: (o) => o.main, config: (p) => baseConfig(p) + ADMIN },
  'loom-nometrics': { main: (o) => o.main, config: (p) => baseConfig(p) + ADMIN + 'metrics:\n  enabled: false\n' },
  // An older build: no admin/metrics keys (builds from before them reject unknown keys).
  'loom-baseline': { main: (o) => o.baselineMain, config: (p) => baseConfig(p) },
};

// ---------------------------------------------------------------------------------------------
// Origin: GET /api/hello → 200 "ok", keep-alive, in this process.

function startOrigin() {
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.method === 'GET' && req.url === '/api/hello') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    } else {
      res.writeHead(404, { 'content-length': '0' });
      res.end();
    }
  });
  // Loom under valgrind is slow: never close its idle upstream connection on a timer.
  server.keepAliveTimeout = 0;
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res(server));
  });
}

// ---------------------------------------------------------------------------------------------
// One measured run

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForStarted(stdoutFile, child, variant) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${variant} exited during start-up (${child.exitCode ?? child.signalCode})`);
    const text = existsSync(stdoutFile) ? readFileSync(stdoutFile, 'utf8') : '';
    for (const line of text.split('\n')) {
      if (!line.includes('"msg":"loom started"')) continue;
      const port = JSON.parse(line)?.listeners?.http?.port;
      if (!Number.isInteger(port)) throw new Error(`${variant}: no listeners.http.port in ${line}`);
      return port;
    }
    await sleep(250);
  }
  throw new Error(`${variant} did not log "loom started" within ${STARTUP_TIMEOUT_MS / 1000} s`);
}

function get(agent, port) {
  return new Promise((res, rej) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/hello', agent }, (resp) => {
      let body = '';
      resp.setEncoding('utf8');
      resp.on('data', (c) => { body += c; });
      resp.on('end', () => res({ status: resp.statusCode, body, reused: req.reusedSocket }));
      resp.on('error', rej);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`request timed out after ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', rej);
  });
}

function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((res) => {
    const t = setTimeout(() => res(false), ms);
    child.once('exit', () => { clearTimeout(t); res(true); });
  });
}

function readIrOf(file) {
  const text = readFileSync(file, 'utf8');
  const m = /^totals:\s+(\d+)/m.exec(text) ?? /^summary:\s+(\d+)/m.exec(text);
  if (!m) throw new Error(`no totals:/summary: line in ${file}`);
  return Number(m[1]);
}

/**
 * Callgrind runs with --separate-threads=yes: one file per thread, <out>-01 (the main
 * thread: the event loop, Loom's JavaScript, main-thread GC) and -02, ... (V8's platform
 * workers: concurrent/background compilation and GC; libuv's pool). Returns the total
 * over all threads and the main thread's share.
 */
function readIr(file) {
  const dir = dirname(file);
  const base = file.slice(dir.length + 1);
  const parts = readdirSync(dir).filter((f) => /^-\d+$/.test(f.slice(base.length)) && f.startsWith(base)).sort();
  if (!parts.length) throw new Error(`callgrind wrote no ${file}-NN files`);
  const threads = parts.map((f) => readIrOf(join(dir, f)));
  return { ir: threads.reduce((a, b) => a + b, 0), irMain: threads[0], threads: threads.length };
}

/** Callgrind's live counters of a running process (all threads, and thread 1 = main). */
function sampleIr(pid) {
  return new Promise((res, rej) => {
    execFile('callgrind_control', ['-e', String(pid)], { encoding: 'utf8', timeout: 120_000 }, (err, out) => {
      if (err) return rej(new Error(`callgrind_control -e ${pid}: ${err.message}`));
      const th = [...out.matchAll(/^\s*Th\s*(\d+)\s+([\d,]+)\s*$/gm)].map((m) => ({ id: Number(m[1]), ir: Number(m[2].replace(/,/g, '')) }));
      if (!th.length) return rej(new Error(`callgrind_control -e ${pid}: no per-thread counters in:\n${out}`));
      res({ ir: th.reduce((a, t) => a + t.ir, 0), irMain: th.find((t) => t.id === 1)?.ir ?? NaN });
    });
  });
}

async function measure({ variant, n, dir, originPort, opts, tag }) {
  const spec = VARIANTS[variant];
  const main = spec.main(opts);
  const cfg = join(dir, `${tag}.yaml`);
  writeFileSync(cfg, spec.config(originPort));
  const stdoutFile = join(dir, `${tag}.stdout.log`);
  const stderrFile = join(dir, `${tag}.stderr.log`);
  const cgOut = join(dir, `${tag}.callgrind.out`);
  const outFd = openSync(stdoutFile, 'w');
  const errFd = openSync(stderrFile, 'w');
  const t0 = Date.now();
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', `--callgrind-out-file=${cgOut}`, '--separate-threads=yes', '--smc-check=all-non-file', ...opts.valgrindArgs, process.execPath, ...opts.nodeArgs, main, '-config', cfg, '-log-level', 'info'],
    // Like bench/run.mjs: cwd is the build's package root, NODE_ENV=production.
    { stdio: ['ignore', outFd, errFd], cwd: dirname(dirname(dirname(main))), env: { ...process.env, NODE_ENV: 'production' } },
  );
  closeSync(outFd);
  closeSync(errFd);
  const stderrTail = () => readFileSync(stderrFile, 'utf8').split('\n').slice(-15).join('\n');
  let agent;
  try {
    const port = await waitForStarted(stdoutFile, child, variant);
    const tStarted = Date.now();
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let newConnections = 0;
    // In the N2 run: counters after request N1 and every `chunk` requests after it.
    let sampling = opts.chunk > 0 && n === opts.n2;
    const samples = [];
    for (let i = 0; i < n; i++) {
      const r = await get(agent, port);
      if (r.status !== 200 || r.body !== 'ok') throw new Error(`${variant}: request ${i + 1} got ${r.status} ${JSON.stringify(r.body.slice(0, 200))}`);
      if (!r.reused) newConnections++;
      const done = i + 1;
      if (sampling && done >= opts.n1 && (done - opts.n1) % opts.chunk === 0) {
        try {
          samples.push({ n: done, ...(await sampleIr(child.pid)) });
        } catch (err) {
          process.stderr.write(`    warning: no in-run samples for this run (${err.message.split('\n')[0]})\n`);
          sampling = false;
          samples.length = 0;
        }
      }
    }
    const tDone = Date.now();
    agent.destroy();
    agent = undefined;
    child.kill('SIGTERM');
    if (!(await waitExit(child, EXIT_TIMEOUT_MS))) throw new Error(`${variant} did not exit within ${EXIT_TIMEOUT_MS / 1000} s of SIGTERM`);
    if (child.exitCode !== 0) throw new Error(`${variant} exited with ${child.exitCode ?? child.signalCode}:\n${stderrTail()}`);
    const accessLines = readFileSync(stdoutFile, 'utf8').split('\n').filter((l) => l.includes('/api/hello')).length;
    return {
      variant, n, ...readIr(cgOut), samples, newConnections, accessLines,
      chunks: samples.slice(1).map((c, i) => ({ from: samples[i].n, to: c.n, ipr: (c.ir - samples[i].ir) / (c.n - samples[i].n), iprMain: (c.irMain - samples[i].irMain) / (c.n - samples[i].n) })),
      startupS: (tStarted - t0) / 1000, requestsS: (tDone - tStarted) / 1000, wallS: (Date.now() - t0) / 1000,
    };
  } catch (err) {
    agent?.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await waitExit(child, 10_000);
    }
    err.message += `\n(logs in ${dir}, stderr tail:\n${stderrTail()})`;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function shell(args) {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function describeBuild(main) {
  const built = `built ${statSync(main).mtime.toISOString().slice(0, 19)}Z`;
  try {
    const dir = dirname(main);
    const rev = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${main} (${built}; the checkout is at git ${rev}${dirty ? ' with uncommitted changes' : ''})`;
  } catch {
    return `${main} (${built})`;
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  for (const v of opts.variants) {
    const m = VARIANTS[v].main(opts);
    if (!existsSync(m)) throw new Error(`${v}: ${m} not found (build Loom: npx tsc -p tsconfig.json)`);
  }
  let valgrind;
  try {
    valgrind = execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('valgrind not found on PATH');
  }

  const started = new Date();
  const log = (s) => process.stderr.write(`${s}\n`);
  console.log(`# Loom instructions per request (callgrind)\n`);
  console.log(`- command: \`${shell([process.argv0, ...process.argv.slice(1).map((a, i) => (i === 0 ? a.replace(ROOT + '/', '') : a))])}\` (cwd ${process.cwd()})`);
  console.log(`- date: ${started.toISOString()}`);
  console.log(`- node ${process.version}, ${valgrind}: \`${shell(['valgrind', '--tool=callgrind', '--separate-threads=yes', '--smc-check=all-non-file', ...opts.valgrindArgs, 'node', ...opts.nodeArgs, 'MAIN', '-config', 'CFG', '-log-level', 'info'])}\` (stdout to a file, NODE_ENV=production)`);
  console.log(`- loom: ${describeBuild(opts.main)}`);
  if (opts.variants.includes('loom-baseline')) console.log(`- loom-baseline: ${describeBuild(opts.baselineMain)}`);
  console.log(`- N1 = ${opts.n1}, N2 = ${opts.n2} sequential GET /api/hello over one keep-alive connection, ${opts.repeat} repeat(s), interleaved`);
  console.log(`- two runs: (Ir@N2 − Ir@N1) / (N2 − N1), Ir = callgrind's total over all threads, start to exit`);
  console.log(opts.chunk > 0
    ? `- chunks: in each N2 run, Ir read with \`callgrind_control -e\` after request ${opts.n1} and every ${opts.chunk} requests to ${opts.n2}; median per-request Ir of the ${Math.floor((opts.n2 - opts.n1) / opts.chunk)} chunks\n`
    : '- chunks: off (--chunk 0)\n');

  // The build under test must not change during the run (another session rebuilding dist/).
  const builds = Object.fromEntries(opts.variants.map((v) => [v, statSync(VARIANTS[v].main(opts)).mtimeMs]));
  const dir = mkdtempSync(join(tmpdir(), 'loom-instr-'));
  const origin = await startOrigin();
  const originPort = origin.address().port;
  const results = []; // { repeat, variant, n, ir, ... }
  let failed = false;
  try {
    for (let r = 1; r <= opts.repeat; r++) {
      for (const n of [opts.n1, opts.n2]) {
        for (const variant of opts.variants) {
          log(`[${new Date().toISOString().slice(11, 19)}] repeat ${r}/${opts.repeat}: ${variant} @ ${n} requests ...`);
          if (statSync(VARIANTS[variant].main(opts)).mtimeMs !== builds[variant]) {
            throw new Error(`${VARIANTS[variant].main(opts)} was rebuilt during the run: the results would mix two builds`);
          }
          const res = await measure({ variant, n, dir, originPort, opts, tag: `${variant}-r${r}-n${n}` });
          results.push({ repeat: r, ...res });
          log(`    Ir ${fmt(res.ir)}  (main thread ${fmt(res.irMain)}, ${res.threads} threads); start-up ${res.startupS.toFixed(0)} s, requests ${res.requestsS.toFixed(0)} s, total ${res.wallS.toFixed(0)} s; ` +
            `${res.newConnections} client connection(s), ${res.accessLines} access-log lines`);
          if (res.chunks.length) log(`    per-request Ir in chunks of ${opts.chunk} after request ${opts.n1} (all threads / main): ${res.chunks.map((c) => `${fmt(c.ipr / 1000)}k/${fmt(c.iprMain / 1000)}k`).join(' ')}`);
          if (res.newConnections !== 1) log(`    warning: the client opened ${res.newConnections} connections, expected 1`);
          if (res.accessLines !== n) log(`    warning: ${res.accessLines} access-log lines for ${n} requests`);
        }
      }
    }
  } catch (err) {
    failed = true;
    process.stderr.write(`instructions.mjs: ${err.message}\n`);
  } finally {
    origin.close();
  }

  // Per-request Ir of one variant in one repeat: from the two runs, and the median of the
  // in-run chunks of its N2 run.
  const twoRuns = (variant, r) => {
    const a = results.find((x) => x.variant === variant && x.repeat === r && x.n === opts.n1);
    const b = results.find((x) => x.variant === variant && x.repeat === r && x.n === opts.n2);
    return a && b ? { a: a.ir, b: b.ir, ipr: (b.ir - a.ir) / (opts.n2 - opts.n1) } : null;
  };
  const chunked = (variant, r) => {
    const b = results.find((x) => x.variant === variant && x.repeat === r && x.n === opts.n2);
    return b?.chunks?.length ? median(b.chunks.map((c) => c.ipr)) : undefined;
  };
  const ratio = (x, ref) => (x !== undefined && ref ? (x / ref).toFixed(3) : '–');
  const num = (x) => (x === undefined ? '–' : fmt(x));

  console.log(`| variant | repeat | Ir@N1 | Ir@N2 | instructions/request (two runs) | ratio to \`loom\` | instructions/request (median of chunks) | ratio to \`loom\` |`);
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (let r = 1; r <= opts.repeat; r++) {
    for (const v of opts.variants) {
      const p = twoRuns(v, r);
      if (!p) continue;
      const c = chunked(v, r);
      console.log(`| ${v} | ${r} | ${fmt(p.a)} | ${fmt(p.b)} | ${fmt(p.ipr)} | ${ratio(p.ipr, twoRuns('loom', r)?.ipr)} | ${num(c)} | ${ratio(c, chunked('loom', r))} |`);
    }
  }
  // Medians over repeats, with the min-max range.
  const over = (fn, v) => Array.from({ length: opts.repeat }, (_, i) => fn(v, i + 1)).filter((x) => x !== undefined && x !== null);
  const stat = (xs) => (xs.length ? { m: median(xs), lo: Math.min(...xs), hi: Math.max(...xs) } : null);
  const cell = (st) => (st ? `${fmt(st.m)} (${fmt(st.lo)}–${fmt(st.hi)}, ±${(((st.hi - st.lo) / 2 / Math.abs(st.m)) * 100).toFixed(1)}%)` : '–');
  const est = {};
  for (const v of opts.variants) est[v] = { two: stat(over((x, r) => twoRuns(x, r)?.ipr, v)), chunks: stat(over(chunked, v)) };
  if (opts.repeat > 1) {
    console.log('\nMedian over repeats (min–max, half-range as % of the median):\n');
    console.log('| variant | instructions/request (two runs) | ratio to `loom` | instructions/request (median of chunks) | ratio to `loom` |');
    console.log('|---|---:|---:|---:|---:|');
    for (const v of opts.variants) {
      const e = est[v];
      console.log(`| ${v} | ${cell(e.two)} | ${ratio(e.two?.m, est.loom?.two?.m)} | ${cell(e.chunks)} | ${ratio(e.chunks?.m, est.loom?.chunks?.m)} |`);
    }
  }
  const diff = (label, v) => {
    if (!est[v] || !est.loom) return;
    const part = (k) => {
      const a = est.loom[k]?.m, b = est[v][k]?.m;
      if (a === undefined || b === undefined) return null;
      const d = a - b;
      return `${d >= 0 ? '+' : '−'}${fmt(Math.abs(d))} (${d >= 0 ? '+' : '−'}${Math.abs((d / a) * 100).toFixed(1)}% of a \`loom\` request)`;
    };
    const two = part('two'), ch = part('chunks');
    console.log(`- ${label}: ${[two && `two runs ${two}`, ch && `chunks ${ch}`].filter(Boolean).join('; ')}`);
  };
  console.log('');
  diff('`loom` − `loom-nometrics` (what metrics cost per request)', 'loom-nometrics');
  diff('`loom` − `loom-baseline` (this build against the baseline build)', 'loom-baseline');
  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify({ argv: process.argv, date: started.toISOString(), node: process.version, valgrind, opts, results }, null, 2));
    log(`raw results: ${opts.json}`);
  }
  const wall = (Date.now() - started.getTime()) / 1000;
  console.log(`\nWall time: ${(wall / 60).toFixed(1)} min (${results.length} valgrind runs).`);

  if (opts.keepTemp || failed) log(`temp dir kept: ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`instructions.mjs: ${err.stack ?? err}\n`);
  process.exit(1);
});
