// A plain node:http client for tests: full control over headers (hop-by-hop ones too),
// the whole body buffered, trailers kept. Each call uses a fresh connection unless an
// agent is given.
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';

export interface TestResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly trailers: Record<string, string | undefined>;
  readonly body: string;
  json<T = any>(): T;
}

export interface TestRequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string | Buffer;
  readonly agent?: Agent | false;
}

/** Sends `path` exactly as given (no URL parsing, so `/a/../b` reaches the server as is). */
export function send(port: number, path: string, options: TestRequestOptions = {}): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          trailers: res.trailers,
          body,
          json: () => JSON.parse(body),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
