import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** A TCP server on 127.0.0.1 standing in for a directory that misbehaves. */
export interface StalledDirectory {
  readonly url: string;
  /** Connections accepted so far: 0 proves that nothing was even tried. */
  readonly connections: number;
  close(): Promise<void>;
}

async function listen(onConnection: (socket: Socket) => void): Promise<StalledDirectory> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ldap://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get connections() {
      return connections;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Accepts connections and never answers, like a directory whose server hangs. */
export function startSilentDirectory(): Promise<StalledDirectory> {
  return listen(() => undefined);
}

/**
 * Passes everything on to the directory at `target` until the client starts a TLS handshake (a
 * record beginning with byte 0x16, sent after a successful StartTLS), then passes nothing on either
 * way: StartTLS succeeds, and the handshake never ends.
 */
export function startStallingProxy(target: URL): Promise<StalledDirectory> {
  return listen((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    let stalled = false;
    client.on('data', (chunk: Buffer) => {
      stalled ||= chunk[0] === 0x16;
      if (!stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!stalled) client.write(chunk);
    });
  });
}
