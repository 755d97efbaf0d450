import { createServer, type AddressInfo } from 'node:net';

/** A port nothing listens on now, for a server a test starts as its own process (slapd, PostgreSQL, nginx). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
