import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A network printer as CUPS's `socket` backend sees one (AppSocket, "JetDirect"): a TCP port that takes
 * a job's bytes and closes. It keeps what each connection sent, so that a test knows what was printed.
 * Paused, it accepts connections but reads nothing: a job is then "printing" for as long as the test wants.
 */
export class TestPrinter {
  readonly received: Buffer[] = [];
  private paused = false;
  private readonly waiting = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<TestPrinter> {
    const server = createServer();
    const printer = new TestPrinter(server);
    server.on('connection', (socket) => printer.take(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return printer;
  }

  /** The queue's device URI through CUPS's socket backend. */
  get uri(): string {
    return `socket://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private take(socket: Socket): void {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      this.received.push(Buffer.concat(chunks));
      socket.end();
    });
    socket.on('error', () => undefined);
    if (this.paused) {
      socket.pause();
      this.waiting.add(socket);
    }
  }

  /** Connections wait, unread, until `resume`. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const socket of this.waiting) socket.resume();
    this.waiting.clear();
  }

  /** Whether a job has reached the printer and is waiting to be read. */
  get hasWaitingJob(): boolean {
    return this.waiting.size > 0;
  }

  async stop(): Promise<void> {
    this.resume();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
