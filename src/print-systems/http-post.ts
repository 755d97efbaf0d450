import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { PrintSystemError } from './print-system-error.js';

export interface PostOptions {
  headers: Record<string, string>;
  body: Buffer;
  /** For the whole exchange, from the first DNS lookup to the answer's last byte. */
  timeoutMs: number;
  /** A longer answer is abandoned (and counts as garbled). */
  maxResponseBytes: number;
}

export interface PostAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One POST on a connection of its own, whose failures say whether the request can have reached the
 * server (PrintSystemError): before the connection is made (and, for HTTPS, secured) not a byte has left,
 * so the failure is `not_sent`; from then on it is `unknown_outcome`. Any HTTP status is an answer and
 * is returned: what it means is the caller's business.
 *
 * The connection is never reused (no agent, `Connection: close`): on a kept-alive socket the server may
 * already have closed, a reset after connecting would be taken for a lost answer to a request that in
 * fact never left.
 */
export function post(url: URL, options: PostOptions): Promise<PostAnswer> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    let connected = false;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const fail = (message: string, errno?: string) => {
      if (settled) return;
      const kind = connected ? 'unknown_outcome' : 'not_sent';
      const when = connected ? 'after the request was sent' : 'before anything was sent';
      settle(() => reject(new PrintSystemError(kind, `POST ${url.origin}${url.pathname}: ${message} (${when})`, errno ? { errno } : {})));
      request.destroy();
    };

    const request = (secure ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      agent: false,
      headers: { ...options.headers, 'Content-Length': String(options.body.length), Connection: 'close' },
    });
    const timer = setTimeout(() => fail(`timed out after ${options.timeoutMs} ms`, 'ETIMEDOUT'), options.timeoutMs);

    request.once('socket', (socket: Socket) => {
      // Node writes the request once the socket is connected (secured, for TLS): from then on it may have left.
      const markConnected = () => (connected = true);
      if (secure) socket.once('secureConnect', markConnected);
      else if (socket.connecting) socket.once('connect', markConnected);
      else markConnected();
    });
    request.on('error', (error: NodeJS.ErrnoException) => fail(error.message, error.code));
    let answer: IncomingMessage | null = null;
    // The connection may close before a complete answer's 'end' is emitted: only an incomplete one fails.
    request.on('close', () => {
      if (!answer?.complete) fail('the connection closed before the answer was complete');
    });
    request.on('response', (response) => {
      answer = response;
      const chunks: Buffer[] = [];
      let length = 0;
      const tooLong = () => fail(`the answer is longer than ${options.maxResponseBytes} bytes`);
      if (Number(response.headers['content-length']) > options.maxResponseBytes) return tooLong();
      response.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > options.maxResponseBytes) return tooLong();
        chunks.push(chunk);
      });
      response.on('error', (error: NodeJS.ErrnoException) => fail(error.message, error.code));
      response.on('end', () => settle(() => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) })));
    });
    request.end(options.body);
  });
}
