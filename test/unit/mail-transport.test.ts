import { expect } from 'chai';
import type { Config } from '../../src/config.js';
import { classifySmtpError, createMailTransport, MailTransportError, type OutgoingMail } from '../../src/smtp/transport.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

/** An error shaped as nodemailer hands them over. */
const smtpError = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

describe('mail transport', () => {
  describe('classifying SMTP failures', () => {
    const permanent = (error: unknown) => classifySmtpError(error).permanent;

    it('takes a 5xx refusal of the recipient or of the message as final', () => {
      expect(permanent(smtpError("Can't send mail - all recipients were rejected: 550 5.1.1 No such user", { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', permanent: true }))).to.equal(true);
      expect(permanent(smtpError('Message failed: 554 Message rejected as spam', { code: 'EMESSAGE', responseCode: 554, command: 'DATA', permanent: true }))).to.equal(true);
      // Without nodemailer's own verdict, the reply class decides.
      expect(permanent(smtpError('Message failed: 552 Too big', { code: 'EMESSAGE', responseCode: 552, command: 'DATA' }))).to.equal(true);
    });

    it('retries 4xx replies, 503, and the session-wide refusals that are the portal configuration (login, sender)', () => {
      expect(permanent(smtpError('451 Try again later', { code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO', permanent: false }))).to.equal(false);
      expect(permanent(smtpError('503 Bad sequence', { code: 'EENVELOPE', responseCode: 503, command: 'DATA' }))).to.equal(false);
      expect(permanent(smtpError('Invalid login: 535 Authentication failed', { code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN', permanent: true }))).to.equal(false);
      expect(permanent(smtpError('Mail command failed: 550 Sender not allowed', { code: 'EENVELOPE', responseCode: 550, command: 'MAIL FROM', permanent: true }))).to.equal(false);
    });

    it('retries failures without a reply: refused connections, timeouts, aborted sends, anything unknown', () => {
      expect(permanent(smtpError('connect ECONNREFUSED 127.0.0.1:2525', { code: 'ESOCKET', originalCode: 'ECONNREFUSED', command: 'CONN' }))).to.equal(false);
      expect(permanent(smtpError('Greeting never received', { code: 'ETIMEDOUT', command: 'CONN' }))).to.equal(false);
      expect(permanent(smtpError('Message sending aborted', { code: 'EABORT' }))).to.equal(false);
      expect(permanent('something odd')).to.equal(false);
      expect(permanent(undefined)).to.equal(false);
    });

    it('describes the failure in one short line, with its code, never with the password', () => {
      const failure = classifySmtpError(smtpError(`Invalid login:\r\n  535 bad credentials for s3cret-Pa55 ${'x'.repeat(500)}`, { code: 'EAUTH', responseCode: 535 }), ['s3cret-Pa55', undefined]);
      expect(failure).to.be.instanceOf(MailTransportError);
      expect(failure.message).to.match(/^EAUTH: Invalid login: 535 bad credentials for \[redacted\] x+$/);
      expect(failure.message).to.have.length.at.most(300);
    });

    it('leaves no piece of a password that spans the cut at 300 characters or holds spaces', () => {
      const password = 'pass  word with\tspaces';
      for (const padding of [270, 285, 295]) {
        const failure = classifySmtpError(smtpError(`${'y'.repeat(padding)} ${password} tail`, { code: 'EAUTH' }), [password]);
        expect(failure.message, String(padding)).not.to.include('pass');
        expect(failure.message).not.to.include('spaces');
      }
    });
  });

  describe('against a real SMTP server', () => {
    let smtp: TestSmtpServer;
    before(async () => {
      smtp = await startSmtpServer({ user: 'portal', password: 'right-password' });
    });
    afterEach(async () => {
      smtp.refuse = null;
      await smtp.start();
    });
    after(() => smtp.stop());

    const mailConfig = (overrides: Partial<Config['mail']['smtp']> = {}, delivery: Config['mail']['delivery'] = 'smtp'): Config['mail'] => ({
      delivery,
      from: 'Recharge <no-reply@recharge.example>',
      smtp: { host: '127.0.0.1', port: smtp.port, secure: false, requireTls: false, user: 'portal', password: 'right-password', ...overrides },
      deliveryIntervalSeconds: 0,
      sendOnIssue: false,
      giveUpHours: 72,
    });
    /** Times the attachment's bytes were asked for. */
    let attachmentReads = 0;
    const mail = (to: string): OutgoingMail => ({
      from: 'Recharge <no-reply@recharge.example>',
      to,
      subject: 'Votre reçu RC-000001 — commande R-2026-000001',
      text: 'Bonjour,\n',
      messageId: '<RC-000001.0123456789abcdef@recharge.example>',
      attachments: [
        {
          filename: 'RC-000001.pdf',
          contentType: 'application/pdf',
          content: async () => {
            attachmentReads += 1;
            return Buffer.from('%PDF-1.7 test');
          },
        },
      ],
    });
    const failureOf = async (sending: Promise<void>) => {
      try {
        await sending;
      } catch (error) {
        expect(error).to.be.instanceOf(MailTransportError);
        return error as MailTransportError;
      }
      throw new Error('the send should have failed');
    };

    it('sends with the login, the fixed Message-ID and the attachment', async () => {
      const before = smtp.messages.length;
      await createMailTransport(mailConfig()).send(mail('camille@example.edu'));
      const [received] = smtp.messages.slice(before);
      expect(received?.to).to.deep.equal(['camille@example.edu']);
      expect(received?.parsed.messageId).to.equal('<RC-000001.0123456789abcdef@recharge.example>');
      expect(received?.parsed.subject).to.equal('Votre reçu RC-000001 — commande R-2026-000001');
      expect(received?.parsed.attachments.map((attachment) => [attachment.filename, attachment.contentType, attachment.content.toString()])).to.deep.equal([['RC-000001.pdf', 'application/pdf', '%PDF-1.7 test']]);
    });

    it('reports a recipient refused with 550 as permanent, and with 451 as temporary', async () => {
      smtp.refuse = (address) => (address.startsWith('gone@') ? { code: 550, message: 'No such user' } : { code: 451, message: 'Mailbox busy' });
      const gone = await failureOf(createMailTransport(mailConfig()).send(mail('gone@example.edu')));
      expect(gone.permanent).to.equal(true);
      expect(gone.message).to.include('550').and.include('No such user');
      const busy = await failureOf(createMailTransport(mailConfig()).send(mail('busy@example.edu')));
      expect(busy.permanent).to.equal(false);
      expect(busy.message).to.include('451');
    });

    it('reports a refused login as temporary, without the password', async () => {
      const failure = await failureOf(createMailTransport(mailConfig({ password: 'wrong-password' })).send(mail('camille@example.edu')));
      expect(failure).to.include({ permanent: false });
      expect(failure.message).to.include('EAUTH').and.not.include('wrong-password');
    });

    it('reports a server that is down as temporary', async () => {
      await smtp.stop();
      const failure = await failureOf(createMailTransport(mailConfig()).send(mail('camille@example.edu')));
      expect(failure.permanent).to.equal(false);
      expect(failure.message).to.match(/ECONNREFUSED/);
    });

    it('keeps mails instead of sending them with delivery "keep", without connecting or reading what they attach', async () => {
      const [before, connections, reads] = [smtp.messages.length, smtp.connections, attachmentReads];
      const transport = createMailTransport(mailConfig({}, 'keep'));
      expect(transport.kind).to.equal('keep');
      await transport.send(mail('camille@example.edu'));
      expect([smtp.messages.length, smtp.connections, attachmentReads]).to.deep.equal([before, connections, reads]);
    });
  });
});
