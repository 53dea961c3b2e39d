// Binding a node:http server, shared by the data-plane listeners and the admin listener.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on `host:port` (host '' = every interface); rejects with the bind error (EADDRINUSE, …). */
export function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: host === '' ? undefined : host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The bound address (the real port when 0 was asked for); null when not listening. */
export function boundAddress(server: Server): { host: string; port: number } | null {
  const a = server.address() as AddressInfo | null;
  return a ? { host: a.address, port: a.port } : null;
}
