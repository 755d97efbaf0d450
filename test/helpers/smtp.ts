import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** The envelope: who the client said it was, and to whom it asked to deliver. */
  from: string;
  to: string[];
  raw: Buffer;
  parsed: ParsedMail;
}

/** An SMTP reply to refuse a recipient with, e.g. { code: 550, message: 'No such user' }. */
export interface Refusal {
  code: number;
  message: string;
}

export interface TestSmtpServer {
  /** Fixed at the first start: the server comes back on the same port after stop(). */
  readonly port: number;
  /** Everything accepted, in order, parsed before the server answered 250. */
  readonly messages: ReceivedMail[];
  /** Every session opened (accepted or not), to prove that nothing was even tried. */
  readonly connections: number;
  /** Refuses some recipients at RCPT TO; null accepts everyone. */
  refuse: ((address: string) => Refusal | null) | null;
  start(): Promise<void>;
  /** Stops listening: clients then get "connection refused", as with a mail server that is down. */
  stop(): Promise<void>;
  messagesTo(address: string): ReceivedMail[];
}

/**
 * A real SMTP server on 127.0.0.1 (smtp-server), without TLS (STARTTLS hidden, so nodemailer does
 * not try it), accepting any sender and, with `credentials`, checking the login.
 */
export async function startSmtpServer(credentials?: { user: string; password: string }): Promise<TestSmtpServer> {
  let server: SMTPServer | null = null;
  let port = 0;
  let connections = 0;
  const messages: ReceivedMail[] = [];

  const create = () =>
    new SMTPServer({
      authOptional: !credentials,
      allowInsecureAuth: true,
      hideSTARTTLS: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 200,
      onConnect(_session, callback) {
        connections += 1;
        callback();
      },
      onAuth(auth, _session, callback) {
        if (credentials && auth.username === credentials.user && auth.password === credentials.password) return callback(null, { user: auth.username });
        callback(Object.assign(new Error('Authentication failed'), { responseCode: 535 }));
      },
      onRcptTo(address, _session, callback) {
        const refusal = smtp.refuse?.(address.address);
        callback(refusal ? Object.assign(new Error(refusal.message), { responseCode: refusal.code }) : null);
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', callback);
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw).then(
            (parsed) => {
              messages.push({
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((recipient) => recipient.address),
                raw,
                parsed,
              });
              callback();
            },
            (error: Error) => callback(error),
          );
        });
      },
    });

  const smtp: TestSmtpServer = {
    get port() {
      return port;
    },
    messages,
    get connections() {
      return connections;
    },
    refuse: null,
    async start() {
      if (server) return;
      const starting = create();
      await new Promise<void>((resolve, reject) => {
        starting.once('error', reject);
        starting.listen(port, '127.0.0.1', () => resolve());
      });
      port = (starting.server.address() as AddressInfo).port;
      server = starting;
    },
    async stop() {
      const stopping = server;
      server = null;
      if (stopping) await new Promise<void>((resolve) => stopping.close(() => resolve()));
    },
    messagesTo: (address) => messages.filter((message) => message.to.includes(address)),
  };
  await smtp.start();
  return smtp;
}
