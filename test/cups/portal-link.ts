import { createServer, request as forward, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  status: number;
  answerHeaders: IncomingMessage['headers'];
  answer: string;
}

/**
 * The network between the print server and the portal, which a test can cut: an HTTP relay in front
 * of the portal. `down` refuses every request as an unreachable portal would (the connection is reset);
 * `onAnswered` lets the test act once the portal has answered a request and before the answer is
 * passed on (to kill the backend at that moment, say).
 */
export class PortalLink {
  down = false;
  /** Called with the request's method and path once the portal has answered, before the answer goes on. */
  onAnswered: ((method: string, path: string) => Promise<void>) | null = null;
  /** Every request relayed and the portal's answer, as they went. */
  readonly exchanges: Exchange[] = [];

  private constructor(
    private readonly server: Server,
    private readonly portal: URL,
  ) {}

  static async start(portalUrl: string): Promise<PortalLink> {
    const server = createServer();
    const link = new PortalLink(server, new URL(portalUrl));
    server.on('request', (request, response) => void link.relay(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return link;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async relay(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (this.down) return void request.socket.destroy();
    const body: Buffer[] = [];
    for await (const chunk of request) body.push(chunk as Buffer);
    const answer = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const outgoing = forward({ host: this.portal.hostname, port: this.portal.port, method: request.method, path: request.url, headers: request.headers }, async (incoming) => {
        const chunks: Buffer[] = [];
        for await (const chunk of incoming) chunks.push(chunk as Buffer);
        resolve({ status: incoming.statusCode ?? 502, headers: incoming.headers, body: Buffer.concat(chunks) });
      });
      outgoing.on('error', reject);
      outgoing.end(Buffer.concat(body));
    });
    this.exchanges.push({
      method: request.method ?? '',
      path: request.url ?? '',
      headers: request.headers,
      body: Buffer.concat(body).toString(),
      status: answer.status,
      answerHeaders: answer.headers,
      answer: answer.body.toString(),
    });
    await this.onAnswered?.(request.method ?? '', request.url ?? '');
    if (request.socket.destroyed) return;
    response.writeHead(answer.status, answer.headers);
    response.end(answer.body);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
