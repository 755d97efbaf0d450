import type { NodemailerError, Transporter } from 'nodemailer';
import type { Config } from '../config.js';

export interface OutgoingMail {
  from: string;
  to: string;
  /** Where replies go when not to `from` (a quote's customer answers the seller). */
  replyTo?: string;
  subject: string;
  text: string;
  /** Fixed when the mail was queued, so a mail sent again after a crash is recognisably the same message. */
  messageId: string;
  attachments: MailAttachment[];
}

/** A file the mail carries: named up front, its bytes read only by a transport that sends them. */
export interface MailAttachment {
  filename: string;
  contentType: string;
  /** The bytes (a document's PDF, drawn first if it never was): never asked for a mail that is only kept. */
  content: () => Promise<Buffer>;
}

export interface MailTransport {
  kind: 'keep' | 'smtp';
  send(mail: OutgoingMail): Promise<void>;
}

/** A send that did not go through; `permanent` when sending the same mail again would be refused again. */
export class MailTransportError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'MailTransportError';
  }
}

/**
 * Short enough that a hung server cannot hold a delivery run for long, long enough for a slow one.
 * The whole send is bounded too (SEND_DEADLINE_MS), and stays well inside the delivery lease.
 */
const TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 20_000, dnsTimeout: 10_000 };
const SEND_DEADLINE_MS = 60_000;

/** The replies that refuse this mail itself (its recipient or its content), as opposed to the session. */
const MESSAGE_COMMANDS = new Set(['RCPT TO', 'DATA']);

/**
 * Whether a failed send is worth retrying, and what to record. Only a 5xx reply to the recipient or
 * the message is final. Everything else is temporary: a refused connection, a timeout, a 4xx, and
 * also a refused login or sender, which are the portal's configuration and refuse every mail alike —
 * once fixed, the queued mails go out instead of having all failed.
 */
export function classifySmtpError(error: unknown, secrets: ReadonlyArray<string | undefined> = []): MailTransportError {
  const failure = (error ?? {}) as NodemailerError;
  const permanent = typeof failure.responseCode === 'number' && isPermanentReply(failure) && MESSAGE_COMMANDS.has(failure.command ?? '');
  const code = failure.code ? `${failure.code}: ` : '';
  // Secrets out first: shortening or folding spaces first could leave part of one behind.
  let description = `${code}${error instanceof Error ? error.message : String(error)}`;
  for (const secret of secrets) if (secret) description = description.replaceAll(secret, '[redacted]');
  return new MailTransportError(description.replace(/\s+/g, ' ').trim().slice(0, 300), permanent);
}

// nodemailer says so itself since 10.2; the reply code is the fallback (503 is a session problem, not a refusal).
const isPermanentReply = (failure: NodemailerError) =>
  failure.permanent ?? (failure.responseCode !== undefined && failure.responseCode >= 500 && failure.responseCode < 600 && failure.responseCode !== 503);

export function createMailTransport(config: Config['mail']): MailTransport {
  // Demo and trials: the outbox row is the mail, read by admins at /admin/mails; what it attaches is named there, never drawn.
  if (config.delivery === 'keep') return { kind: 'keep', send: async () => {} };
  const { host, port, secure, requireTls, user, password } = config.smtp;
  // nodemailer (about 0.1 s to load) is imported with the first mail sent, not at start.
  let transporter: Promise<Transporter> | undefined;
  const transporterOnce = () =>
    (transporter ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport({ host, port, secure, requireTLS: requireTls, auth: user && password ? { user, pass: password } : undefined, ...TIMEOUTS }),
    ));
  return {
    kind: 'smtp',
    async send(mail) {
      // Before connecting, and not the server's failure: a file that cannot be had fails as itself.
      const attachments = await Promise.all(mail.attachments.map(async ({ filename, contentType, content }) => ({ filename, contentType, content: await content() })));
      try {
        await (await transporterOnce()).sendMail({ ...mail, attachments, signal: AbortSignal.timeout(SEND_DEADLINE_MS) });
      } catch (error) {
        throw classifySmtpError(error, [password]);
      }
    },
  };
}
