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

/** Below the kernel's ephemeral range (32768 and up on Linux), where nobody listening on port 0 is given a port. */
const OUTSIDE_EPHEMERAL = { first: 20_000, count: 12_000 };

/**
 * A free port no other process can be handed by listening on port 0: for a server whose port a test
 * checks is closed after it stops (suites running beside it open ephemeral ports all the time, and one
 * could otherwise be given the same port at once and accept the connection).
 */
export async function freePortOutsideEphemeralRange(): Promise<number> {
  for (;;) {
    const port = OUTSIDE_EPHEMERAL.first + Math.floor(Math.random() * OUTSIDE_EPHEMERAL.count);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
