import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import type supertest from 'supertest';
import { createApp } from '../../src/app.js';
import { createIdentityRegistry } from '../../src/identity-setup.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import type { Clock } from '../../src/domain/time/clock.js';
import { createArgon2Hasher, type PasswordHasher } from '../../src/domain/people/passwords.js';
import { createUserManagement, type UserManagement } from '../../src/services/people/user-management.js';
import type { User } from '../../src/domain/people/users.js';
import { createLedger, type Ledger } from '../../src/services/ledger/accounts.js';
import { createLogger } from '../../src/logger.js';
import type { Checkout } from '../../src/services/checkout/checkout.js';
import type { CreditRefunds } from '../../src/services/credit-refunds/credit-refunds.js';
import type { DocumentIssuing } from '../../src/services/documents/document-issuing.js';
import type { DocumentFiles } from '../../src/services/documents/document-files.js';
import type { DocumentMails } from '../../src/services/mail/document-mail.js';
import type { OutboxMails } from '../../src/services/mail/outbox-mails.js';
import type { MailDelivery } from '../../src/services/mail/mail-delivery.js';
import type { QuoteExpiry } from '../../src/services/quotes/quote-expiry.js';
import { createGatewayFromConfig } from '../../src/payments/paypal/from-config.js';
import { createPayPalSimulator, type PayPalSimulator } from '../../src/payments/paypal/simulator/index.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import type { IdentityRegistry } from '../../src/services/identity/registry.js';
import type { CreditDestination } from '../../src/print-systems/credit-destination.js';
import { createPaperCutDestination } from '../../src/print-systems/papercut/papercut-destination.js';
import { createPaperCutSimulator, type PaperCutSimulator } from '../../src/print-systems/papercut/simulator/index.js';
import { recordCreditDestination } from '../../src/services/credit-transfers/destination-setup.js';
import type { PrintSystem } from '../../src/services/credit-transfers/print-system.js';

export class FakeClock implements Clock {
  constructor(private time = Date.parse('2026-11-23T10:00:00Z')) {}
  now(): Date {
    return new Date(this.time);
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export const TEST_SESSION_SECRET = 'test-session-secret-0123456789abcdef0123456789';

/** A hasher that counts verifications, to prove unknown usernames cost a verification too. */
export function countingHasher(inner: PasswordHasher = createArgon2Hasher()): PasswordHasher & { verifications: number } {
  const counting = {
    verifications: 0,
    hash: (password: string) => inner.hash(password),
    verify: (hash: string, password: string) => {
      counting.verifications += 1;
      return inner.verify(hash, password);
    },
  };
  return counting;
}

export interface TestPortal extends TestDatabase {
  app: Express;
  /** The portal listening on an ephemeral port, so that the simulator's webhooks reach it. */
  baseUrl: string;
  checkout: Checkout;
  /** Receipts and credit notes (issueMissing). */
  documents: DocumentIssuing;
  /** Their PDF files: `idle()` waits for those being rendered after their payment. */
  documentFiles: DocumentFiles;
  /** The outbox's delivery: in the test config (no timer, MAIL_SEND_ON_ISSUE off) mails go only when a test calls deliverDue(). */
  mail: MailDelivery;
  documentMails: DocumentMails;
  outboxMails: OutboxMails;
  /** Quotes' expiry, as the reconciler's sweep runs it. */
  quoteExpiry: QuoteExpiry;
  /** Refunds of unused credit (the reconciler's sweep asks PayPal again for their waiting parts). */
  creditRefunds: CreditRefunds;
  simulator: PayPalSimulator;
  /** With the `papercut` option: the PaperCut simulator credits go to. */
  papercut: PaperCutSimulator | null;
  /** With a credit destination: its transfers' delivery (no timer in tests: `delivery.deliverDue()`) and balances. */
  printSystem: PrintSystem | null;
  config: Config;
  /** Its identity providers, for a second instance of the portal on the same database. */
  identity: IdentityRegistry;
  clock: FakeClock;
  hasher: ReturnType<typeof countingHasher>;
  users: UserManagement;
  ledger: Ledger;
  /** Every log line the portal wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  rawLogs: string[];
  addUser(username: string, password: string, extra?: Partial<{ role: 'user' | 'admin' | 'it'; displayName: string; email: string }>): Promise<User>;
}

/**
 * The whole portal in-process on a fresh database, with a fake clock, captured logs, and its own PayPal
 * simulator on an ephemeral port (the real client, over HTTP, webhooks included).
 */
export interface TestPortalOptions {
  /**
   * Identity providers other than those IDENTITY_PROVIDERS configures: a registry built by the test, or
   * built from the portal's config, database and clock (as server.ts adds the demo provider).
   */
  identity?: IdentityRegistry | ((portal: { config: Config; db: Database; clock: Clock }) => Promise<IdentityRegistry>);
  /**
   * Credits go to PaperCut too: a PaperCut simulator of the test's own (on an ephemeral port, knowing
   * these people with these balances in hundredths), reached by the portal's real client.
   */
  papercut?: { users: Record<string, number> };
  /** Credits go to this destination too (a webhook receiver, a destination wrapped by the test). */
  creditDestination?: CreditDestination;
}

export async function createTestPortal(env: Record<string, string> = {}, { identity, papercut: papercutPeople, creditDestination }: TestPortalOptions = {}): Promise<TestPortal> {
  const database = await createTestDatabase();
  // Each portal keeps IT's uploads in a folder of its own, removed with it.
  const uploadsDir = await mkdtemp(path.join(tmpdir(), 'recharge-uploads-'));
  const config = loadConfig({ env: { NODE_ENV: 'test', SESSION_SECRET: TEST_SESSION_SECRET, LOG_LEVEL: 'info', DATABASE_URL: database.url, UPLOADS_DIR: uploadsDir, ...env } });
  const rawLogs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      rawLogs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const clock = new FakeClock();
  const hasher = countingHasher();
  const users = createUserManagement({ db: database.db, hasher, clock });
  const simulator = createPayPalSimulator({ now: () => clock.now(), webhookRetry: { attempts: 3, delayMs: 20 } });
  const gateway = createGatewayFromConfig(config.payments, await simulator.start());
  const providers = typeof identity === 'function' ? await identity({ config, db: database.db, clock }) : (identity ?? (await createIdentityRegistry({ config, db: database.db, clock, providers: config.identity.providers })));
  const papercut = papercutPeople ? createPaperCutSimulator({ users: papercutPeople.users, now: () => clock.now() }) : null;
  const credits = papercut ? createPaperCutDestination({ url: await papercut.start(), authToken: papercut.authToken, timeoutMs: config.credits.timeoutMs }) : (creditDestination ?? null);
  await recordCreditDestination(database.db, credits, clock.now());
  const { app, checkout, documents, documentFiles, documentMails, outboxMails, mail, quoteExpiry, printSystem, creditRefunds } = createApp({
    config,
    db: database.db,
    logger: createLogger(config, destination),
    clock,
    hasher,
    gateway,
    identity: providers,
    creditDestination: credits,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  simulator.setWebhookUrl(`${baseUrl}/webhooks/paypal`);
  return {
    ...database,
    async cleanup() {
      await mail.idle();
      await printSystem?.delivery.idle();
      await documentFiles.close();
      await simulator.stop();
      await papercut?.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await database.cleanup();
      await rm(uploadsDir, { recursive: true, force: true });
    },
    app,
    baseUrl,
    checkout,
    documents,
    documentFiles,
    mail,
    documentMails,
    outboxMails,
    quoteExpiry,
    creditRefunds,
    simulator,
    papercut,
    printSystem,
    config,
    identity: providers,
    clock,
    hasher,
    users,
    ledger: createLedger({ db: database.db, clock }),
    rawLogs,
    get logs() {
      return rawLogs.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    addUser: (username, password, extra = {}) =>
      users.addUser({ username, password, displayName: extra.displayName ?? `Name of ${username}`, email: extra.email ?? `${username}@example.edu`, role: extra.role ?? 'user', locale: null }),
  };
}

export function csrfTokenFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token in page');
  return match[1];
}

/** Every cookie a response sets, as `name=value`. */
export function cookiesOf(response: { headers: Record<string, unknown> }): string[] {
  const cookies = (response.headers['set-cookie'] as string[] | undefined) ?? [];
  return cookies.map((cookie) => cookie.split(';')[0] as string);
}

export function sessionCookieOf(response: { headers: Record<string, unknown> }): string | undefined {
  return cookiesOf(response).find((cookie) => cookie.startsWith('recharge.sid=') || cookie.startsWith('__Host-recharge='));
}

/** Logs in through the form, as a browser would; returns the POST /login response. */
export async function logIn(agent: ReturnType<typeof supertest.agent>, username: string, password: string, headers: Record<string, string> = {}) {
  const page = await agent.get('/login').set(headers);
  return agent.post('/login').set(headers).type('form').send({ _csrf: csrfTokenFrom(page.text), username, password });
}
