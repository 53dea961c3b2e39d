// @fastify/http-proxy 11 on fastify 5 (reply-from over an undici Pool), logger off, one process.
// Usage: node fastify-http-proxy.mjs <port> <originPort>. Paths are forwarded unchanged.
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';

const [port, originPort] = process.argv.slice(2).map(Number);
const upstream = `http://127.0.0.1:${originPort}`;

const app = Fastify({ logger: false });
await app.register(proxy, { upstream, prefix: '/api', rewritePrefix: '/api' });
await app.register(proxy, { upstream, prefix: '/big', rewritePrefix: '/big' });
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`listening ${port}\n`);
