import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { THEME_NAME } from './domain/branding/branding.js';
import { providerConfigSchema, SECRET_REQUIRED, secretVariable } from './domain/identity/provider-config.js';
import { SUPPORTED_LOCALES } from './i18n/index.js';

/** The project's folder (config/, views/, themes/, data/): above src/config.ts, or above dist/src/config.js once compiled. */
export const projectRoot = path.resolve(import.meta.dirname, import.meta.filename.endsWith('.js') ? '../..' : '..');

/** The placeholder shipped in .env.example; production refuses it. */
export const EXAMPLE_SESSION_SECRET = 'change-me-to-a-long-random-string-of-at-least-32-characters';

/**
 * Environment variables people expect, mapped to their place in the config.
 * Every key a deployment may need to change has one, so no JSON file must be edited in production.
 */
export const ENVIRONMENT_KEYS = {
  HOST: 'server.host',
  PORT: 'server.port',
  PUBLIC_URL: 'server.publicUrl',
  TRUST_PROXY: 'server.trustProxy',
  REDIRECT_TO_PUBLIC_URL: 'server.redirectToPublicUrl',
  SHUTDOWN_TIMEOUT_SECONDS: 'server.shutdownTimeoutSeconds',
  DATABASE_URL: 'database.url',
  DATABASE_POOL_MAX: 'database.poolMax',
  SESSION_SECRET: 'session.secret',
  SESSION_IDLE_MINUTES: 'session.idleMinutes',
  SESSION_ABSOLUTE_HOURS: 'session.absoluteHours',
  LOGIN_MAX_FAILURES_PER_ACCOUNT: 'login.maxFailuresPerAccount',
  LOGIN_MAX_FAILURES_PER_IP: 'login.maxFailuresPerIp',
  LOGIN_WINDOW_MINUTES: 'login.windowMinutes',
  LOGIN_LOCK_MINUTES: 'login.lockMinutes',
  LOGIN_PRIVILEGED_MAX_FAILURES: 'login.privilegedMaxFailures',
  LOGIN_PRIVILEGED_LOCK_MINUTES: 'login.privilegedLockMinutes',
  LOGIN_SLOWED_INTERVAL_SECONDS: 'login.slowedIntervalSeconds',
  SECOND_FACTOR_REQUIRED: 'secondFactor.required',
  SECOND_FACTOR_KEY: 'secondFactor.key',
  SECOND_FACTOR_STEP_UP_MINUTES: 'secondFactor.stepUpMinutes',
  SECOND_FACTOR_STEP_UP_ADJUSTMENT_UNITS: 'secondFactor.stepUpAdjustmentUnits',
  SECOND_FACTOR_MAX_FAILURES: 'secondFactor.maxFailures',
  SECOND_FACTOR_LOCK_MINUTES: 'secondFactor.lockMinutes',
  DEFAULT_LOCALE: 'i18n.defaultLocale',
  TIME_ZONE: 'i18n.timeZone',
  DEMO_DATA: 'demo.enabled',
  ALLOW_DEMO_IN_PRODUCTION: 'demo.allowInProduction',
  DEMO_IDENTITY_PROVIDER: 'demo.identityProvider',
  DEMO_CAS_PORT: 'demo.casPort',
  LOCAL_PASSWORDS: 'identity.localPasswords',
  WELCOME_CREDIT_UNITS: 'identity.welcomeCreditUnits',
  PAYPAL_ENV: 'payments.provider',
  ALLOW_SIMULATED_PAYMENTS_IN_PRODUCTION: 'payments.allowSimulatedInProduction',
  PAYPAL_CLIENT_ID: 'payments.clientId',
  PAYPAL_CLIENT_SECRET: 'payments.clientSecret',
  PAYPAL_WEBHOOK_ID: 'payments.webhookId',
  PAYPAL_API_BASE_URL: 'payments.apiBaseUrl',
  PAYPAL_TIMEOUT_MS: 'payments.timeoutMs',
  PAYPAL_WEBHOOK_VERIFICATION: 'payments.webhookVerification',
  PAYPAL_SIM_PORT: 'payments.simulatorPort',
  BRAND_NAME: 'payments.brandName',
  ORDER_EXPIRY_MINUTES: 'payments.orderExpiryMinutes',
  RECONCILE_INTERVAL_SECONDS: 'payments.reconcileIntervalSeconds',
  OPEN_ORDERS_PER_PERSON: 'payments.openOrdersPerPerson',
  PAYPAL_ORDERS_PER_PERSON_PER_MINUTE: 'payments.paypalOrdersPerMinute',
  SELLER_NAME: 'seller.name',
  SELLER_ADDRESS: 'seller.address',
  SELLER_VAT_NUMBER: 'seller.vatNumber',
  SELLER_EMAIL: 'seller.email',
  DOCUMENT_DOWNLOADS_PER_MINUTE: 'documents.downloadsPerMinute',
  THEME: 'branding.defaultTheme',
  THEMES_DIR: 'branding.themesDir',
  UPLOADS_DIR: 'branding.uploadsDir',
  BRANDING_REFRESH_SECONDS: 'branding.refreshSeconds',
  MAIL_DELIVERY: 'mail.delivery',
  MAIL_FROM: 'mail.from',
  MAIL_INTERVAL_SECONDS: 'mail.deliveryIntervalSeconds',
  MAIL_SEND_ON_ISSUE: 'mail.sendOnIssue',
  MAIL_GIVE_UP_HOURS: 'mail.giveUpHours',
  SMTP_HOST: 'mail.smtp.host',
  SMTP_PORT: 'mail.smtp.port',
  SMTP_SECURE: 'mail.smtp.secure',
  SMTP_REQUIRE_TLS: 'mail.smtp.requireTls',
  SMTP_USER: 'mail.smtp.user',
  SMTP_PASSWORD: 'mail.smtp.password',
  CREDIT_DESTINATION: 'credits.destination',
  PAPERCUT_URL: 'credits.papercut.url',
  PAPERCUT_AUTH_TOKEN: 'credits.papercut.authToken',
  PAPERCUT_ACCOUNT_NAME: 'credits.papercut.accountName',
  PAPERCUT_SIM_PORT: 'credits.papercut.simulatorPort',
  CREDIT_WEBHOOK_URL: 'credits.webhook.url',
  CREDIT_WEBHOOK_SECRET: 'credits.webhook.secret',
  CREDIT_DESTINATION_TIMEOUT_MS: 'credits.timeoutMs',
  CREDIT_DELIVERY_INTERVAL_SECONDS: 'credits.deliveryIntervalSeconds',
  CREDIT_GIVE_UP_HOURS: 'credits.giveUpHours',
  PRINT_BALANCE_CACHE_SECONDS: 'credits.balanceCacheSeconds',
  LOG_LEVEL: 'log.level',
  METRICS_TOKEN: 'metrics.token',
  METRICS_PORT: 'metrics.port',
  METRICS_HOST: 'metrics.host',
  RETENTION_INTERVAL_MINUTES: 'retention.intervalMinutes',
  RETENTION_BATCH_SIZE: 'retention.batchSize',
  RETENTION_UNPAID_ORDERS_DAYS: 'retention.unpaidOrdersDays',
  RETENTION_WEBHOOKS_DAYS: 'retention.webhooksDays',
  RETENTION_MAILS_DAYS: 'retention.mailsDays',
  RETENTION_SIGN_INS_DAYS: 'retention.signInsDays',
  RETENTION_API_IDEMPOTENCY_DAYS: 'retention.apiIdempotencyDays',
  RETENTION_AUDIT_DAYS: 'retention.auditDays',
  RETENTION_FAMILIAR_SOURCES_DAYS: 'retention.familiarSourcesDays',
  RETENTION_PEOPLE_IMPORTS_DAYS: 'retention.peopleImportsDays',
  RETENTION_ACCOUNTING_YEARS: 'retention.accountingYears',
  DATA_EXPORTS_PER_HOUR: 'retention.dataExportsPerHour',
} as const;

/** Keys that must never sit in a committed JSON file (a database URL only when it carries a password). */
const isSecretSetting = (key: string, value: unknown) =>
  key === 'session.secret' ||
  key === 'secondFactor.key' ||
  key === 'metrics.token' ||
  key === 'payments.clientSecret' ||
  key === 'mail.smtp.password' ||
  key === 'credits.papercut.authToken' ||
  key === 'credits.webhook.secret' || (key === 'database.url' && typeof value === 'string' && /:\/\/[^/@]*:[^/@]*@/.test(value));

const environmentVariableOf = new Map<string, string>(
  Object.entries(ENVIRONMENT_KEYS).map(([variable, key]) => [key, variable]),
);

const integer = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value),
    z.number().int().min(min).max(max),
  );

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);
const flag = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return value;
}, z.boolean());

/** Express's `trust proxy`: a boolean, a number of hops, or a list of addresses/subnets. */
const trustProxy = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word) && word !== '1') return true;
  if (FALSE_WORDS.has(word) && word !== '0') return false;
  if (/^\d+$/.test(word)) return Number(word);
  return value.trim();
}, z.union([z.boolean(), z.number().int().min(0), z.string().min(1)]));

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .transform((url) => url.replace(/\/+$/, ''));

const locale = z.enum(SUPPORTED_LOCALES);

const configSchema = z
  .object({
    env: z.enum(['development', 'test', 'production']),
    server: z.object({
      host: z.string().min(1),
      port: integer(0, 65535),
      publicUrl: httpUrl.optional(),
      trustProxy,
      /** Pages asked for on another host name of this server are redirected to PUBLIC_URL's (public-origin.ts). */
      redirectToPublicUrl: flag,
      /** On SIGTERM or SIGINT, how long requests in flight and work in progress may take before the process exits anyway. */
      shutdownTimeoutSeconds: integer(1, 600),
    }),
    database: z.object({
      url: z.string().min(1),
      poolMax: integer(1, 100),
    }),
    session: z.object({
      secret: z.string().min(32, 'must be at least 32 characters').optional(),
      idleMinutes: integer(1, 24 * 60),
      absoluteHours: integer(1, 24 * 30),
    }),
    login: z.object({
      maxFailuresPerAccount: integer(1, 1000),
      maxFailuresPerIp: integer(1, 100000),
      windowMinutes: integer(1, 24 * 60),
      lockMinutes: integer(1, 24 * 60),
      /** Admin and IT accounts: this many failures within the window lock the account this long. */
      privilegedMaxFailures: integer(1, 1000),
      privilegedLockMinutes: integer(1, 24 * 60),
      /** A slowed account: sources it was not signed in from lately get one attempt this often, between them. */
      slowedIntervalSeconds: integer(1, 3600),
    }),
    /** Second factors for admin and IT (README, "Second factor for admins and IT"). */
    secondFactor: z.object({
      /** Admin and IT accounts must check a second factor before any admin or IT page (on in production). */
      required: flag,
      /** Encrypts TOTP secrets (32 bytes, hex or base64); derived from SESSION_SECRET when unset. */
      key: z.string().min(32, 'must be at least 32 characters (openssl rand -hex 32)').max(200).optional(),
      /** Money actions ask for the second factor again when the last check is older than this. */
      stepUpMinutes: integer(1, 60),
      /** Adjustments of more than this many units ask for it again (refunds, prices, API keys and roles always do). */
      stepUpAdjustmentUnits: integer(0, 1_000_000),
      /** Wrong codes a person may enter in the lock period before they must wait for it to pass. */
      maxFailures: integer(1, 100),
      lockMinutes: integer(1, 24 * 60),
    }),
    i18n: z.object({
      defaultLocale: locale,
      timeZone: z.string().refine(isKnownTimeZone, 'must be an IANA time zone such as Europe/Paris'),
    }),
    demo: z.object({
      enabled: flag,
      allowInProduction: flag,
      /** In demo mode, a built-in CAS server with demo people, offered on the login page. */
      identityProvider: flag,
      /** Its port (0 = any free port). */
      casPort: integer(0, 65535),
    }),
    /** Institutional sign-in (README, "Signing in with the institution's accounts"). */
    identity: z.object({
      providers: z.array(providerConfigSchema),
      /** `staff`: only admin and IT accounts may use a portal password; people sign in through a provider. */
      localPasswords: z.enum(['everyone', 'staff']),
      /** Units credited once to a person whose account a provider created (0: none). */
      welcomeCreditUnits: integer(0, 100_000),
    }),
    payments: z.object({
      provider: z.enum(['simulator', 'sandbox', 'live']),
      allowSimulatedInProduction: flag,
      clientId: z.string().min(1).optional(),
      clientSecret: z.string().min(1).optional(),
      webhookId: z.string().min(1).optional(),
      /** Overrides PayPal's host: a simulator started elsewhere (`npm run paypal-sim`), or a proxy. */
      apiBaseUrl: httpUrl.optional(),
      timeoutMs: integer(100, 120_000),
      webhookVerification: z.enum(['offline', 'online']),
      /** 0 = any free port; only used when the portal starts its own simulator. */
      simulatorPort: integer(0, 65535),
      brandName: z.string().min(1).max(127),
      orderExpiryMinutes: integer(5, 7 * 24 * 60),
      reconcileIntervalSeconds: integer(0, 24 * 3600),
      /** Orders waiting for payment (placed within the expiry time) one person may have at once. */
      openOrdersPerPerson: integer(1, 1000),
      /** PayPal orders one person may start in a minute. */
      paypalOrdersPerMinute: integer(1, 1000),
    }),
    seller: z.object({
      name: z.string().min(1).max(200),
      address: z.string().max(500),
      vatNumber: z.string().max(50),
      /** Where customers reply: a quote's mail asks them to, so quotes are not sent without it. */
      email: z.string().max(254).refine((value) => value === '' || isMailbox(value), 'must be empty or an address such as reprographie@example.edu'),
    }),
    documents: z.object({
      /** Receipt and credit-note downloads one person (buyer or admin) may make in a minute, per instance. */
      downloadsPerMinute: integer(1, 10_000),
    }),
    branding: z.object({
      /** The theme folder shown until IT publishes a look. */
      defaultTheme: z.string().regex(THEME_NAME, 'must be a theme folder name (lowercase letters, digits, dashes)'),
      /** Where theme folders live (relative to the project). */
      themesDir: z.string().min(1),
      /** Where uploaded logos and favicons are kept: never a folder served as static files. */
      uploadsDir: z.string().min(1),
      /** How often an instance asks the database whether another instance published a new look. */
      refreshSeconds: integer(0, 3600),
    }),
    mail: z.object({
      /** `keep`: mails stay in the portal for admins to read (demo, trials); `smtp`: sent through mail.smtp. */
      delivery: z.enum(['keep', 'smtp']),
      /** The sender: `no-reply@example.edu` or `Recharge <no-reply@example.edu>`. */
      from: z.string().max(254).refine(isMailbox, 'must be an address such as no-reply@example.edu or Recharge <no-reply@example.edu>'),
      smtp: z.object({
        host: z.string().min(1).max(253).optional(),
        port: integer(1, 65535),
        /** TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it. */
        secure: flag,
        /** Refuse to send unless the server upgrades to TLS (STARTTLS). */
        requireTls: flag,
        user: z.string().min(1).max(254).optional(),
        password: z.string().min(1).max(1000).optional(),
      }),
      /** How often queued mails are looked at, retries included (0: no timer). */
      deliveryIntervalSeconds: integer(0, 3600),
      /** Send as soon as a receipt is issued, besides the timer (off in tests, which deliver when they choose). */
      sendOnIssue: flag,
      /** After this long without success a mail is marked failed for an admin to look at. */
      giveUpHours: integer(1, 24 * 14),
    }),
    /** Where credits go besides the ledger (README, "Crediting PaperCut or another print system"). */
    credits: z.object({
      /** `ledger`: the portal's ledger alone; `papercut`: also PaperCut's account; `papercut-sim`: the built-in PaperCut simulator (demo); `webhook`: a signed POST to another system. */
      destination: z.enum(['ledger', 'papercut', 'papercut-sim', 'webhook']),
      papercut: z.object({
        /** PaperCut's server (`https://print.example.edu:9192`) or its XML-RPC endpoint. */
        url: httpUrl.optional(),
        /** The web services token (`auth.webservices.auth-token` in PaperCut's advanced config). */
        authToken: z.string().min(1).max(1000).optional(),
        /** A personal account name when PaperCut has several (empty: the built-in one). */
        accountName: z.string().max(200),
        /** The built-in simulator's port with CREDIT_DESTINATION=papercut-sim (0 = any free port). */
        simulatorPort: integer(0, 65535),
      }),
      webhook: z.object({
        url: httpUrl.optional(),
        /** The HMAC-SHA256 key the receiver checks signatures with. */
        secret: z.string().min(32, 'must be at least 32 characters').max(1000).optional(),
      }),
      /** For each call to the destination, from connecting to the answer's last byte. */
      timeoutMs: integer(100, 120_000),
      /** How often queued transfers are looked at, retries included (0: no timer). */
      deliveryIntervalSeconds: integer(0, 3600),
      /** Deliver as soon as a credit is posted, besides the timer (off in tests, which deliver when they choose). */
      deliverOnPosting: flag,
      /** A transfer refused or unreachable this long after it was queued is parked for an admin. */
      giveUpHours: integer(1, 24 * 30),
      /** How long the account page may show a balance read from the print system. */
      balanceCacheSeconds: integer(0, 3600),
    }),
    log: z.object({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    }),
    /** /metrics: off unless a token or a port of its own is set (README, "Monitoring"). */
    metrics: z.object({
      /** Bearer token Prometheus sends; required wherever /metrics is served on an address others reach. */
      token: z.string().min(32, 'must be at least 32 characters').max(1000).optional(),
      /** A listener of its own serving only /metrics (0 = any free port); the portal's port then does not serve it. */
      port: integer(0, 65535).optional(),
      host: z.string().min(1),
    }),
    /**
     * How long each kind of row is kept (README, "Personal data and retention"). The floors are where a
     * shorter period would break something: PayPal's windows, the login throttle's, the audit trigger's.
     */
    retention: z.object({
      /** How often the retention job runs (0: never on its own; `npm run cli -- retention run` still does). */
      intervalMinutes: integer(0, 7 * 24 * 60),
      /** Rows deleted per statement: short transactions, whatever the backlog. */
      batchSize: integer(10, 10_000),
      /** Orders never paid (cancelled or expired, no capture; never a failed one): PayPal can no longer complete them. */
      unpaidOrdersDays: integer(30, 36_500),
      /** PayPal webhook events and transmissions already handled (refused as stale after 4 days anyway). */
      webhooksDays: integer(7, 36_500),
      /** Mails of the outbox once sent, kept or failed. */
      mailsDays: integer(30, 36_500),
      /** Sign-ins whose session ended (expired sessions go at once). */
      signInsDays: integer(1, 36_500),
      /** Print servers' Idempotency-Keys (the ledger's own keys still make a late replay harmless). */
      apiIdempotencyDays: integer(7, 36_500),
      /** Audit entries; the database itself refuses to delete one younger than 365 days. */
      auditDays: integer(365, 36_500),
      /** Where people signed in from; the login throttle looks 90 days back. */
      familiarSourcesDays: integer(90, 36_500),
      /** People import files (names, e-mails): an admin confirms a checked file within minutes. */
      peopleImportsDays: integer(1, 36_500),
      /** Ledger entries and documents (receipts, credit notes): accounting records. */
      accountingYears: integer(10, 100),
      /** Personal data downloads one person may make in an hour, per instance. */
      dataExportsPerHour: integer(1, 1000),
    }),
  })
  .superRefine((config, context) => {
    if (config.server.publicUrl?.startsWith('https://') && config.server.trustProxy === false) {
      // The portal speaks plain HTTP; with an https address TLS ends at a proxy. Without trusting it,
      // Express sees every request as http and never sends the Secure session cookie: nobody could log in.
      context.addIssue({
        code: 'custom',
        path: ['server', 'trustProxy'],
        message: 'must name the TLS-terminating proxy (a hop count such as 1, or its addresses) when PUBLIC_URL is https',
      });
    }
    const themesDir = path.resolve(projectRoot, config.branding.themesDir);
    const uploadsDir = path.resolve(projectRoot, config.branding.uploadsDir);
    if (!path.relative(themesDir, uploadsDir).startsWith('..')) {
      // Theme assets are served as static files: an upload there would skip its fixed Content-Type.
      context.addIssue({ code: 'custom', path: ['branding', 'uploadsDir'], message: 'must be outside the themes folder, which is served to browsers' });
    }
    if (config.payments.provider !== 'simulator') {
      for (const key of ['clientId', 'clientSecret', 'webhookId'] as const) {
        if (!config.payments[key]) {
          context.addIssue({ code: 'custom', path: ['payments', key], message: `is required with PAYPAL_ENV=${config.payments.provider}` });
        }
      }
    }
    if (config.mail.delivery === 'smtp' && !config.mail.smtp.host) {
      context.addIssue({ code: 'custom', path: ['mail', 'smtp', 'host'], message: 'is required with MAIL_DELIVERY=smtp' });
    }
    if (!config.mail.smtp.user !== !config.mail.smtp.password) {
      context.addIssue({ code: 'custom', path: ['mail', 'smtp', config.mail.smtp.user ? 'password' : 'user'], message: 'SMTP_USER and SMTP_PASSWORD go together' });
    }
    checkIdentityProviders(config, context);
    checkCreditDestination(config, context);
    const metrics = config.metrics;
    if (metrics.port !== undefined && metrics.port !== 0 && metrics.port === config.server.port) {
      context.addIssue({ code: 'custom', path: ['metrics', 'port'], message: 'must differ from PORT: the portal\'s own port serves pages, this one only /metrics' });
    }
    if (metrics.port !== undefined && metrics.token === undefined && EVERY_INTERFACE.has(metrics.host)) {
      // Metrics name routes, volumes and versions: never on every interface without a token.
      context.addIssue({ code: 'custom', path: ['metrics', 'host'], message: `${metrics.host} listens on every interface: name one address (127.0.0.1, or the interface Prometheus reaches) or set METRICS_TOKEN too` });
    }
    if (config.env !== 'production') return;
    const secret = config.session.secret;
    const secretProblem = secret === undefined ? 'is required in production' : guessableSecretProblem(secret);
    if (secretProblem) context.addIssue({ code: 'custom', path: ['session', 'secret'], message: secretProblem });
    const factorKey = config.secondFactor.key;
    const factorKeyProblem = factorKey === undefined ? null : factorKey === secret ? 'must differ from SESSION_SECRET' : guessableSecretProblem(factorKey);
    if (factorKeyProblem) context.addIssue({ code: 'custom', path: ['secondFactor', 'key'], message: factorKeyProblem });
    if (metrics.token !== undefined) {
      // Prometheus's configuration is often read by more people than the portal's: its token unlocks nothing else.
      const tokenProblem = metrics.token === secret ? 'must differ from SESSION_SECRET' : guessableSecretProblem(metrics.token);
      if (tokenProblem) context.addIssue({ code: 'custom', path: ['metrics', 'token'], message: tokenProblem });
    }
    if (trustsEveryHop(config.server.trustProxy)) {
      // Trusting every hop lets any client write its own X-Forwarded-For: the login throttle counts per address.
      context.addIssue({
        code: 'custom',
        path: ['server', 'trustProxy'],
        message: 'trusts every hop (true, or a subnet wider than /8 or /16 for IPv6), so clients can choose the address the login throttle sees; give the number of proxies in front (e.g. 1) or their addresses',
      });
    }
    if (config.mail.delivery === 'smtp' && /@recharge\.example>?$/.test(config.mail.from)) {
      context.addIssue({ code: 'custom', path: ['mail', 'from'], message: 'is the example sender; set the address receipts are sent from' });
    }
    if (config.demo.enabled && !config.demo.allowInProduction) {
      context.addIssue({
        code: 'custom',
        path: ['demo', 'enabled'],
        message: 'demo data is refused in production unless ALLOW_DEMO_IN_PRODUCTION=true',
      });
    }
    if (config.payments.provider === 'simulator' && !config.payments.allowSimulatedInProduction) {
      context.addIssue({
        code: 'custom',
        path: ['payments', 'provider'],
        message: 'simulated payments are refused in production unless ALLOW_SIMULATED_PAYMENTS_IN_PRODUCTION=true',
      });
    }
  });

/** The chosen destination has what it needs; production reaches it over TLS and never credits the simulator. */
function checkCreditDestination(config: ParsedConfig, context: z.RefinementCtx): void {
  const { destination, papercut, webhook } = config.credits;
  const required = (path: string[], message: string) => context.addIssue({ code: 'custom', path: ['credits', ...path], message });
  if (destination === 'papercut') {
    if (!papercut.url) required(['papercut', 'url'], 'is required with CREDIT_DESTINATION=papercut');
    if (!papercut.authToken) required(['papercut', 'authToken'], 'is required with CREDIT_DESTINATION=papercut');
  }
  if (destination === 'webhook') {
    if (!webhook.url) required(['webhook', 'url'], 'is required with CREDIT_DESTINATION=webhook');
    if (!webhook.secret) required(['webhook', 'secret'], 'is required with CREDIT_DESTINATION=webhook');
  }
  if (config.env !== 'production') return;
  if (destination !== 'ledger' && config.credits.deliveryIntervalSeconds === 0) {
    // Without the timer, a transfer that failed once (PaperCut restarting) would wait for the next payment.
    required(['deliveryIntervalSeconds'], 'must be above 0 in production when credits go to a print system: retries need the timer');
  }
  if (destination === 'papercut-sim' && !config.demo.allowInProduction) {
    required(['destination'], 'the PaperCut simulator is refused in production unless ALLOW_DEMO_IN_PRODUCTION=true');
  }
  const url = destination === 'papercut' ? papercut.url : destination === 'webhook' ? webhook.url : undefined;
  if (url?.startsWith('http://')) required([destination, 'url'], 'must be https:// in production: the token or signed credits would cross the network in clear');
}

/** Provider ids are unique, secrets present where needed; production talks to providers over TLS only. */
function checkIdentityProviders(config: ParsedConfig, context: z.RefinementCtx): void {
  const seen = new Set<string>();
  const production = config.env === 'production';
  config.identity.providers.forEach((provider, index) => {
    const at = (key: string) => ['identity', 'providers', index, key];
    if (seen.has(provider.id) || provider.id === 'demo') {
      context.addIssue({ code: 'custom', path: at('id'), message: provider.id === 'demo' ? '"demo" is the built-in demo provider\'s id' : `${provider.id} is used by two providers` });
    }
    seen.add(provider.id);
    if (SECRET_REQUIRED.has(provider.kind) && !provider.secret) {
      context.addIssue({ code: 'custom', path: at('secret'), message: `is required: set ${secretVariable(provider.id)}` });
    }
    if (provider.kind === 'saml' && !provider.secret !== !provider.spCertificate) {
      context.addIssue({ code: 'custom', path: at('spCertificate'), message: `spCertificate and ${secretVariable(provider.id)} (the matching private key) go together` });
    }
    if (!production) return;
    const plain =
      provider.kind === 'ldap' ? provider.url.startsWith('ldap://') && !provider.startTls : !(provider.kind === 'oidc' ? provider.issuer : provider.kind === 'saml' ? provider.entryPoint : provider.serverUrl).startsWith('https://');
    if (plain) {
      context.addIssue({ code: 'custom', path: at(provider.kind === 'ldap' ? 'url' : 'id'), message: 'must be reached over TLS in production (https://, ldaps:// or startTls)' });
    }
  });
  if (config.identity.localPasswords === 'staff' && config.identity.providers.length === 0 && !(config.demo.enabled && config.demo.identityProvider)) {
    context.addIssue({ code: 'custom', path: ['identity', 'localPasswords'], message: 'is staff, but no identity provider is configured: nobody else could sign in' });
  }
}

/** 80 bits by this estimate: `openssl rand -hex 16` (128 random bits) never scored below 96 in 20,000 draws, `-hex 32` scores about 240. */
const MIN_SECRET_ENTROPY_BITS = 80;

/** Hosts that mean every interface of the machine. */
const EVERY_INTERFACE = new Set(['0.0.0.0', '::', '[::]']);

/** Why production refuses a secret (a placeholder, or not random enough), or null. */
function guessableSecretProblem(secret: string): string | null {
  if (secret === EXAMPLE_SESSION_SECRET || /change-?me/i.test(secret)) {
    return `is ${secret === EXAMPLE_SESSION_SECRET ? 'the example value from .env.example' : 'a placeholder'}; generate one with \`openssl rand -hex 32\``;
  }
  const bits = estimatedEntropyBits(secret);
  if (bits < MIN_SECRET_ENTROPY_BITS) return `does not look random (about ${Math.floor(bits)} bits, at least ${MIN_SECRET_ENTROPY_BITS} needed); generate one with \`openssl rand -hex 32\``;
  return null;
}

/**
 * A pessimistic estimate of how random a secret is: the Shannon entropy of its characters'
 * frequencies times the length of the pattern it repeats, so that 32 identical characters give 0 and
 * a word written four times, with a character added, counts as the word.
 */
export function estimatedEntropyBits(secret: string): number {
  const characters = [...secret];
  const counts = new Map<string, number>();
  for (const character of characters) counts.set(character, (counts.get(character) ?? 0) + 1);
  let perCharacter = 0;
  for (const count of counts.values()) perCharacter -= (count / characters.length) * Math.log2(count / characters.length);
  return perCharacter * repeatedPatternLength(characters);
}

/**
 * The smallest p such that at least 80 % of the characters equal the one p places before them (the
 * text's length when there is none): a random secret matches itself at any shift about once in its
 * alphabet's size, a repeated pattern almost everywhere at its length.
 */
function repeatedPatternLength(characters: readonly string[]): number {
  for (let shift = 1; shift <= characters.length / 2; shift += 1) {
    let same = 0;
    for (let index = shift; index < characters.length; index += 1) if (characters[index] === characters[index - shift]) same += 1;
    if (same >= 0.8 * (characters.length - shift)) return shift;
  }
  return characters.length;
}

/**
 * TRUST_PROXY values that trust (nearly) any address, so that a client could write its own
 * X-Forwarded-For: `true`, or a subnet wider than /8 (IPv4) or /16 (IPv6) — `0.0.0.0/1,128.0.0.0/1`
 * is every IPv4 address.
 */
const trustsEveryHop = (trustProxy: boolean | number | string) =>
  trustProxy === true ||
  (typeof trustProxy === 'string' &&
    trustProxy.split(',').some((entry) => {
      const [address = '', prefix] = entry.trim().split('/');
      return prefix !== undefined && Number(prefix) < (address.includes(':') ? 16 : 8);
    }));

/** Settings production accepts but that deserve a line in the log at every start. */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.env === 'production' && config.server.publicUrl.startsWith('http://')) {
    warnings.push(
      `PUBLIC_URL is ${config.server.publicUrl}: without https the session cookie is sent in clear and not marked Secure; put the portal behind HTTPS and set PUBLIC_URL=https://…`,
    );
  }
  return warnings;
}

type ParsedConfig = z.infer<typeof configSchema>;

export type DatabaseTarget =
  | { dialect: 'sqlite'; filename: string }
  | { dialect: 'postgres'; connectionString: string };

export type Locale = z.infer<typeof locale>;

export interface Config extends Omit<ParsedConfig, 'server' | 'database' | 'session'> {
  /** Folders are absolute paths. */
  branding: ParsedConfig['branding'];
  server: Omit<ParsedConfig['server'], 'publicUrl'> & { publicUrl: string; secureCookies: boolean };
  database: { target: DatabaseTarget; poolMax: number };
  session: Omit<ParsedConfig['session'], 'secret'> & { secret: string; secretGenerated: boolean };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  configDir?: string;
}

/**
 * Builds the one configuration object: config/default.json, then config/<NODE_ENV>.json,
 * then environment variables; validated, then frozen. Throws ConfigError naming every bad key.
 */
export function loadConfig({ env = process.env, configDir = path.join(projectRoot, 'config') }: LoadConfigOptions = {}): Config {
  const environment = env.NODE_ENV ?? 'development';
  const problems: string[] = [];
  const merged: Record<string, unknown> = { env: environment };
  for (const file of ['default.json', `${environment}.json`]) {
    const fromFile = readConfigFile(path.join(configDir, file), problems);
    for (const [key, value] of flattenEntries(fromFile)) {
      if (isSecretSetting(key, value)) {
        problems.push(`${key} (config/${file}): secrets come only from the environment (${environmentVariableOf.get(key)})`);
      }
    }
    deepMerge(merged, fromFile);
  }
  for (const [variable, key] of Object.entries(ENVIRONMENT_KEYS)) {
    const value = env[variable];
    if (value !== undefined && value !== '') setPath(merged, key, value);
  }
  addIdentityProviders(merged, env, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const result = configSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path.join('.');
        const variable = environmentVariableOf.get(key);
        return `${key}${variable ? ` (${variable})` : ''}: ${issue.message}`;
      }),
    );
  }
  return deepFreeze(finish(result.data));
}

/**
 * Identity providers come from the config files or, whole, from IDENTITY_PROVIDERS (a JSON array);
 * each one's secret only from IDENTITY_<ID>_SECRET.
 */
function addIdentityProviders(merged: Record<string, unknown>, env: NodeJS.ProcessEnv, problems: string[]): void {
  const identity = (isPlainObject(merged.identity) ? merged.identity : (merged.identity = {})) as Record<string, unknown>;
  if (env.IDENTITY_PROVIDERS) {
    try {
      identity.providers = JSON.parse(env.IDENTITY_PROVIDERS) as unknown;
    } catch (error) {
      problems.push(`identity.providers (IDENTITY_PROVIDERS): not JSON: ${(error as Error).message}`);
      return;
    }
  }
  if (!Array.isArray(identity.providers)) return;
  identity.providers.forEach((provider: unknown, index) => {
    if (!isPlainObject(provider)) return;
    if (provider.secret !== undefined) {
      problems.push(`identity.providers.${index}.secret: secrets come only from the environment (${secretVariable(String(provider.id))})`);
    }
    const secret = typeof provider.id === 'string' ? env[secretVariable(provider.id)] : undefined;
    if (secret) provider.secret = secret;
  });
}

function finish(parsed: ParsedConfig): Config {
  const publicUrl = parsed.server.publicUrl ?? `http://localhost:${parsed.server.port}`;
  const secret = parsed.session.secret ?? randomBytes(32).toString('hex');
  return {
    ...parsed,
    server: {
      ...parsed.server,
      publicUrl,
      // PORT=0 without PUBLIC_URL (a port chosen at start, as tests do) leaves no address to send anyone to.
      redirectToPublicUrl: parsed.server.redirectToPublicUrl && !(parsed.server.publicUrl === undefined && parsed.server.port === 0),
      secureCookies: publicUrl.startsWith('https://'),
    },
    database: { target: parseDatabaseUrl(parsed.database.url), poolMax: parsed.database.poolMax },
    session: { ...parsed.session, secret, secretGenerated: parsed.session.secret === undefined },
    branding: {
      ...parsed.branding,
      themesDir: path.resolve(projectRoot, parsed.branding.themesDir),
      uploadsDir: path.resolve(projectRoot, parsed.branding.uploadsDir),
    },
  };
}

/** `postgres://…` selects PostgreSQL; `sqlite:path` or a bare path selects an SQLite file (relative to the project). */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: 'postgres', connectionString: url };
  const file = url.replace(/^sqlite:(\/\/)?/i, '');
  return { dialect: 'sqlite', filename: path.resolve(projectRoot, file) };
}

/** A bare address or `Display Name <address>`, on one line (a line break would add mail headers). */
function isMailbox(value: string): boolean {
  const address = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;
  const named = /^([^<>\r\n"]+|"[^"\r\n]+") <([^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+)>$/.exec(value);
  return address.test(value) || named !== null;
}

function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function readConfigFile(file: string, problems: string[]): Record<string, unknown> {
  if (!existsSync(file)) return {};
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (isPlainObject(value)) return value;
    problems.push(`${path.basename(file)}: must hold a JSON object`);
  } catch (error) {
    problems.push(`${path.basename(file)}: ${(error as Error).message}`);
  }
  return {};
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function flattenEntries(object: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  return Object.entries(object).flatMap(([key, value]): Array<[string, unknown]> =>
    isPlainObject(value) ? flattenEntries(value, `${prefix}${key}.`) : [[`${prefix}${key}`, value]],
  );
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isPlainObject(value) && isPlainObject(existing)) deepMerge(existing, value);
    else target[key] = isPlainObject(value) ? structuredClone(value) : value;
  }
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  const last = parts.pop() as string;
  let node = target;
  for (const part of parts) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[last] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
