// `npm start`: two demo upstreams, then the real `loom` CLI on examples/loom.yaml.
// Ctrl-C stops everything (the gateway shuts down gracefully first).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startDemoUpstream } from './demo-upstream.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const demos = await Promise.all([startDemoUpstream('demo-a', 9001), startDemoUpstream('demo-b', 9002)]);
process.stdout.write('demo upstreams on 127.0.0.1:9001 (demo-a) and 127.0.0.1:9002 (demo-b)\n');
process.stdout.write('try: curl localhost:8080/api/hello   (run it twice: round robin)\n');

const loom = spawn(
  process.execPath,
  [`${root}dist/src/main.js`, '-config', `${root}examples/loom.yaml`, '-log-format', process.env.LOOM_LOG_FORMAT ?? 'pretty'],
  { stdio: 'inherit' },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => loom.kill(signal));
}
loom.on('exit', (code) => {
  for (const d of demos) d.close();
  process.exitCode = code ?? 0;
});
