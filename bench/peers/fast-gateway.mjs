// fast-gateway 5.0.1 (restana + fast-proxy-lite, node:http Agent with keep-alive) as one process.
// Usage: node fast-gateway.mjs <port> <originPort>. Paths are forwarded unchanged.
import gateway from 'fast-gateway';

const [port, originPort] = process.argv.slice(2).map(Number);
const target = `http://127.0.0.1:${originPort}`;

const server = gateway({
  enableServicesEndpoint: false,
  routes: [
    { prefix: '/api', prefixRewrite: '/api', target },
    { prefix: '/big', prefixRewrite: '/big', pathRegex: '', target },
  ],
});

server.start(port, '127.0.0.1').then(() => {
  process.stdout.write(`listening ${port}\n`);
});
