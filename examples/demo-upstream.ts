// A tiny HTTP server that says who it is: the quick start runs two of them.
import { createServer, type Server } from 'node:http';

export function startDemoUpstream(name: string, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    const body = JSON.stringify({
      upstream: name,
      method: req.method,
      path: req.url,
      request_id: req.headers['x-request-id'],
      forwarded_for: req.headers['x-forwarded-for'],
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(`${body}`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
