import path from 'node:path';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { projectRoot, type Config } from './config.js';
import type { Database, Queryable } from './db/database.js';
import { createUploadStore } from './db/branding/upload-store.js';
import { createLedger } from './services/ledger/accounts.js';
import { createAuthenticator } from './services/people/authentication.js';
import { deviceTokens } from './domain/people/device-token.js';
import { createCheckout, type Checkout } from './services/checkout/checkout.js';
import { createDocumentIssuing, type DocumentIssuing } from './services/documents/document-issuing.js';
import { createDocumentFiles, type DocumentFiles } from './services/documents/document-files.js';
import { createDocumentRenderer } from './services/documents/document-renderer.js';
import { createDocumentMails, type DocumentMails } from './services/mail/document-mail.js';
import { createNoticeMails, type NoticeWriter } from './services/mail/notices.js';
import { lowBalanceNotices } from './services/low-balance/low-balance-notices.js';
import { creditRefundNotices } from './services/credit-refunds/credit-refund-notices.js';
import { createCreditRefunds, type CreditRefunds } from './services/credit-refunds/credit-refunds.js';
import { creditRefundRoutes } from './web/routes/credit-refunds.js';
import { createOutboxMails, type OutboxMails } from './services/mail/outbox-mails.js';
import { createMailDelivery, type MailDelivery } from './services/mail/mail-delivery.js';
import { createMailTransport } from './smtp/transport.js';
import type { Clock } from './domain/time/clock.js';
import { systemClock } from './system-clock.js';
import { createArgon2Hasher, type PasswordHasher } from './domain/people/passwords.js';
import { createPrintApi } from './services/print-api/print-api.js';
import { createUserManagement } from './services/people/user-management.js';
import { createTranslations, SUPPORTED_LOCALES } from './i18n/index.js';
import type { PaymentGateway } from './payments/gateway.js';
import type { CreditDestination } from './print-systems/credit-destination.js';
import { createPrintSystem, type PrintSystem } from './services/credit-transfers/print-system.js';
import { loadSessionUser } from './web/middleware/authentication.js';
import { refuseControlCharacters } from './web/middleware/control-characters.js';
import { csrfProtection } from './web/middleware/csrf.js';
import { errorHandler, notFoundHandler } from './web/middleware/error-handler.js';
import { resolveLocale } from './web/middleware/locale.js';
import { requestLogger } from './web/middleware/request-logger.js';
import { redirectToPublicUrl } from './web/middleware/public-origin.js';
import { securityHeaders } from './web/middleware/security-headers.js';
import { deviceCookieName, pendingSignInCookieName, sessionCookieName, sessionCookieOptions, sessions } from './web/middleware/session.js';
import { printApiRoutes } from './web/api/routes.js';
import { accountRoutes } from './web/routes/account.js';
import { myAccountRoutes } from './web/routes/my-account.js';
import { personalDataRoutes } from './web/routes/personal-data.js';
import { lowBalanceAlertRoutes } from './web/routes/low-balance-alert.js';
import { adminRoutes } from './web/routes/admin/index.js';
import { PEOPLE_IMPORT_PATH, peopleImportUpload } from './web/routes/admin/people-import.js';
import { authRoutes } from './web/routes/auth.js';
import { healthRoutes } from './web/routes/health.js';
import { itRoutes } from './web/routes/it/index.js';
import { deskRoutes } from './web/routes/desk/index.js';
import { createQuoteDesk } from './services/quotes/quote-desk.js';
import { createQuoteExpiry, type QuoteExpiry } from './services/quotes/quote-expiry.js';
import { createQuoteSending } from './services/quotes/quote-sending.js';
import { createQuotePayment } from './services/quotes/quote-payment.js';
import { createQuotePaymentDesk } from './services/quotes/quote-payment-desk.js';
import { quoteRoutes } from './web/routes/quotes/index.js';
import { quoteAccess, quoteAccessCookie } from './web/quote-access.js';
import { canUseQuoteDesk } from './domain/quotes/quote-desk.js';
import { BRANDING_DRAFT_PATH, brandingFormUpload } from './web/routes/it/branding-upload.js';
import { uploadRoutes } from './web/routes/uploads.js';
import { orderRoutes } from './web/routes/orders.js';
import { payPalWebhookRoutes } from './web/routes/paypal-webhook.js';
import { topUpRoutes } from './web/routes/topup.js';
import { voucherRedemptionRoutes } from './web/routes/voucher-redemption.js';
import { voucherPurchaseRoutes } from './web/routes/voucher-purchases.js';
import { createVoucherPurchases } from './services/vouchers/voucher-purchases.js';
import { preferenceRoutes } from './web/routes/preferences.js';
import { brandingPreview, publishedTheme } from './web/middleware/theme.js';
import { themeAssetRoutes } from './web/routes/theme-assets.js';
import { documentRoutes } from './web/routes/documents.js';
import { createBrandDrawing, documentBrandOf } from './services/branding/document-branding.js';
import { themedViews } from './web/themes/themed-views.js';
import { createThemeService } from './services/branding/theme-service.js';
import { viewHelpers } from './web/view-helpers.js';
import { createPortalMetrics } from './services/monitoring/metrics.js';
import { requestMetrics } from './web/middleware/request-metrics.js';
import { metricsRoutes } from './web/routes/metrics.js';
import { metricsOnlyApp } from './metrics-app.js';
import type { IdentityRegistry } from './services/identity/registry.js';
import { createExternalSignIn } from './services/identity/external-sign-in.js';
import { sessionStarter } from './web/sign-in/begin-session.js';
import { signInChoices } from './web/sign-in/sign-in-choices.js';
import { isProviderPostPath, providerPostRoutes, signInRoutes } from './web/routes/sign-in.js';
import { loginPageRenderer } from './web/routes/auth.js';
import { secondFactorsDeps } from './cli/second-factors.js';
import { createSecondFactors } from './services/second-factors/second-factors.js';
import { GATED_PATHS, secondFactorGate, stepUpGuard } from './web/middleware/second-factor.js';
import { secondFactorCheck } from './web/sign-in/second-factor-check.js';
import { secondFactorRoutes } from './web/routes/second-factor.js';
import { securityRoutes } from './web/routes/security.js';
import { createPasskeys } from './services/second-factors/passkeys.js';
import { passkeyRoutes } from './web/routes/passkeys.js';

export interface AppDependencies {
  config: Config;
  db: Database;
  logger: Logger;
  gateway: PaymentGateway;
  clock?: Clock;
  hasher?: PasswordHasher;
  /** The identity providers: createIdentityRegistry's, from the config (server.ts adds the demo one). */
  identity: IdentityRegistry;
  /** Where credits go besides the ledger (CREDIT_DESTINATION; server.ts builds it, starting the PaperCut simulator if asked); none by default. */
  creditDestination?: CreditDestination | null;
}

/** What the process entry needs besides the app: the checkout (reconciler), documents (those missing at start, the render thread), mail (its timer), quotes' expiry (the sweep). */
export interface Portal {
  app: Express;
  checkout: Checkout;
  documents: DocumentIssuing;
  documentFiles: DocumentFiles;
  documentMails: DocumentMails;
  /** Any mail of the outbox as it is sent: a document's or a notice's. */
  outboxMails: OutboxMails;
  mail: MailDelivery;
  /** Sent quotes past their last day expire in the reconciler's sweep. */
  quoteExpiry: QuoteExpiry;
  /** What METRICS_PORT's listener serves (/metrics only), when set; the process entry listens with it. */
  metricsApp: Express | null;
  /** The print system credits are transferred to (its delivery's timer), when one is configured. */
  printSystem: PrintSystem | null;
  /** Refunds of unused credit: the reconciler's sweep asks PayPal again for their waiting parts. */
  creditRefunds: CreditRefunds;
}

/** Every kind of notice mail the portal sends (a mail with no document), by kind: each capability writes its own. */
const noticeWriters: Readonly<Record<string, NoticeWriter>> = { ...lowBalanceNotices, ...creditRefundNotices };

/** Builds the portal from its dependencies, without listening: tests drive it in-process. */
export function createApp({ config, db, logger, gateway, clock = systemClock, hasher = createArgon2Hasher(), identity, creditDestination = null }: AppDependencies): Portal {
  const translations = createTranslations();
  const viewsDir = path.join(projectRoot, 'views');
  const views = themedViews(viewsDir);
  const themes = createThemeService({
    db,
    themesDir: config.branding.themesDir,
    defaultViewsDir: viewsDir,
    defaultTheme: config.branding.defaultTheme,
    refreshMs: config.branding.refreshSeconds * 1000,
  });
  const uploads = createUploadStore(config.branding.uploadsDir);
  const ledger = createLedger({ db, clock });
  // Nothing is measured unless /metrics is served somewhere (a token, or a port of its own).
  const metrics = config.metrics.token !== undefined || config.metrics.port !== undefined ? createPortalMetrics({ db, clock, logger }) : null;
  const brandAt = async (queryable: Queryable) => documentBrandOf(await themes.publishedAt(queryable), config.branding.themesDir);
  const documents = createDocumentIssuing({ seller: config.seller, defaultLocale: config.i18n.defaultLocale, mailDomain: new URL(config.server.publicUrl).hostname, brandAt });
  const documentFiles = createDocumentFiles({
    db,
    clock,
    logger,
    timeZone: config.i18n.timeZone,
    publicUrl: config.server.publicUrl,
    renderer: createDocumentRenderer(),
    currentBrand: brandAt,
    drawBrand: createBrandDrawing({ uploads, themesDir: config.branding.themesDir }),
  });
  // A mail to send attaches the document: drawn at once, so that the mail sent right after attaches the
  // rendition being made rather than making another. A mail only kept names it: drawn at its first download.
  const prepareAttachments = (issued: Parameters<typeof documentFiles.prepare>[0]) => {
    if (config.mail.delivery === 'smtp') documentFiles.prepare(issued);
  };
  const documentMails = createDocumentMails({ db, translations, files: documentFiles, from: config.mail.from, publicUrl: config.server.publicUrl, timeZone: config.i18n.timeZone });
  const outboxMails = createOutboxMails(
    documentMails,
    createNoticeMails({ translations, from: config.mail.from, publicUrl: config.server.publicUrl, timeZone: config.i18n.timeZone, writers: noticeWriters }),
  );
  const mail = createMailDelivery({
    db,
    clock,
    logger,
    transport: createMailTransport(config.mail),
    compose: outboxMails.compose,
    giveUpAfterMs: config.mail.giveUpHours * 3600_000,
    mailDomain: new URL(config.server.publicUrl).hostname,
    deliverOnIssue: config.mail.sendOnIssue,
  });
  const printSystem = creditDestination ? createPrintSystem({ config, db, clock, logger, destination: creditDestination }) : null;
  const uncountedCheckout = createCheckout({
    db,
    gateway,
    clock,
    logger,
    publicUrl: config.server.publicUrl,
    brandName: config.payments.brandName,
    orderExpiryMinutes: config.payments.orderExpiryMinutes,
    limits: { openOrdersPerPerson: config.payments.openOrdersPerPerson, paypalOrdersPerMinute: config.payments.paypalOrdersPerMinute },
    documents,
    // A payment's credit (or a refund's take-back) was just posted with its transfer: sent on at once too.
    onDocumentsIssued: (issued) => {
      prepareAttachments(issued);
      mail.kick();
      printSystem?.delivery.kick();
    },
  });
  const quoteExpiry = createQuoteExpiry({ db, timeZone: config.i18n.timeZone });
  const quotes = createQuoteDesk({ db, clock, timeZone: config.i18n.timeZone, defaultLocale: config.i18n.defaultLocale, expiry: quoteExpiry });
  const quoteSending = createQuoteSending({
    db,
    clock,
    timeZone: config.i18n.timeZone,
    sellerEmail: config.seller.email,
    documents,
    onMailQueued: (issued) => {
      prepareAttachments(issued);
      mail.kick();
    },
  });
  // Counted here, so that the timer in server.ts and a test's sweep are counted alike.
  const checkout = metrics ? metrics.countSweeps(uncountedCheckout) : uncountedCheckout;
  const minutes = (count: number) => count * 60_000;
  const externalSignIn = createExternalSignIn({ db, clock, welcomeCredit: config.identity.welcomeCreditUnits * 100 });
  const login = config.login;
  const perAccount = { maxFailures: login.maxFailuresPerAccount, windowMs: minutes(login.windowMinutes), lockMs: minutes(login.lockMinutes) };
  const authenticate = createAuthenticator({
    db,
    hasher,
    clock,
    policy: {
      perAddress: { ...perAccount, maxFailures: login.maxFailuresPerIp },
      perAccountAndAddress: perAccount,
      perAccount: { ...perAccount, slowedIntervalMs: login.slowedIntervalSeconds * 1000 },
      privilegedAccount: { maxFailures: login.privilegedMaxFailures, windowMs: minutes(login.windowMinutes), lockMs: minutes(login.privilegedLockMinutes) },
    },
    devices: deviceTokens(config.session.secret),
    directories: { directories: identity.directories, signIn: externalSignIn, localPasswords: config.identity.localPasswords },
  });
  const secondFactorSettings = secondFactorsDeps(config, db, clock);
  const secondFactorPolicy = secondFactorSettings.policy;
  const secondFactors = createSecondFactors(secondFactorSettings);
  const beginSession = sessionStarter({ db, clock, absoluteHours: config.session.absoluteHours, factorCount: secondFactors.factorCount });
  const choices = signInChoices(identity, { publicUrl: config.server.publicUrl, localPasswords: config.identity.localPasswords });
  const showLoginPage = loginPageRenderer({ choices, absoluteHours: config.session.absoluteHours });

  const app = express();
  app.set('trust proxy', config.server.trustProxy);
  const cacheViews = config.env !== 'development';
  app.engine('ejs', views.engine(cacheViews));
  app.set('view engine', 'ejs');
  app.set('views', viewsDir);
  app.set('view cache', cacheViews);
  app.disable('x-powered-by');
  app.locals.themedViews = views;
  app.locals.themes = themes;
  app.locals.locales = SUPPORTED_LOCALES;
  app.locals.simulatedPayments = config.payments.provider === 'simulator';

  if (metrics) app.use(requestMetrics(metrics.observeRequest));
  app.use(requestLogger(logger));
  // The providers' origins too: logging out of the portal redirects to theirs (OIDC, CAS).
  app.use(securityHeaders({ https: config.server.secureCookies, formActionOrigins: [...gateway.approvalOrigins, ...providerOrigins(identity)] }));
  // For Prometheus, before cookies, sessions and CSRF; on a listener of its own instead when METRICS_PORT is set.
  if (metrics && config.metrics.port === undefined) app.use(metricsRoutes({ registry: metrics.registry, token: config.metrics.token }));
  // The portal's own stylesheet ships in the default theme; other themes add their theme.css over it.
  app.use('/assets', express.static(path.join(config.branding.themesDir, 'default', 'assets'), { index: false, maxAge: '1h' }));
  app.use(themeAssetRoutes(themes));
  app.use(uploadRoutes({ db, uploads }));
  app.use(healthRoutes({ db }));
  app.use(payPalWebhookRoutes({ gateway, checkout, logger }));
  app.use(
    printApiRoutes({
      db,
      clock,
      printApi: createPrintApi({ db, ledger }),
      publicUrl: config.server.publicUrl,
      defaultLocale: config.i18n.defaultLocale,
      translations,
      logger,
    }),
  );
  // Pages only on PUBLIC_URL's host; health, metrics, webhooks, the print API and assets answer on any.
  if (config.server.redirectToPublicUrl) app.use(redirectToPublicUrl(config.server.publicUrl));
  const smallForms = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 100 });
  // Admin forms carry whole price lists and terms of sale: parsed once the person is known to be an admin.
  const adminForms = express.urlencoded({ extended: false, limit: '512kb', parameterLimit: 500 });
  app.use((request, response, next) => (isAdminPath(request.path) || isDeskPath(request.path) || isProviderPostPath(request.path) ? next() : smallForms(request, response, next)));
  // Every page from here on may show personal data (a name, a balance, an order): never kept by the
  // browser or a proxy, so Back after logging out on a shared computer shows nothing. Routes that
  // know better (documents) set their own.
  app.use((_request, response, next) => {
    response.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(publishedTheme(themes));
  app.use(cookieParser());
  app.use(sessions(config, db, logger));
  app.use(loadSessionUser({ config, db, clock }));
  app.use(brandingPreview({ db, themes }));
  app.use(resolveLocale(config.i18n.defaultLocale, translations));
  app.use(viewHelpers(config));
  app.use('/admin', (request, response, next) => (request.user?.role === 'admin' ? adminForms : smallForms)(request, response, next));
  // A quote's form carries up to thirty lines: parsed once the person is known to be of the desk.
  app.use('/desk', (request, response, next) => (canUseQuoteDesk(request.user) ? adminForms : smallForms)(request, response, next));
  // The multipart forms: csrf-sync reads `_csrf` from the parsed body, so these uploads are parsed first.
  app.use(PEOPLE_IMPORT_PATH, peopleImportUpload);
  app.use(BRANDING_DRAFT_PATH, brandingFormUpload);
  const [offerCsrfTokens, checkCsrfToken] = csrfProtection({ secret: config.session.secret, secureCookies: config.server.secureCookies });
  app.use(offerCsrfTokens);
  // The SAML IdP's cross-site POST: proven by its signature, it carries no CSRF token (sign-in.ts).
  // After the tokens are offered: a refused answer shows the login page, whose form needs one.
  app.use(providerPostRoutes({ identity, logger, showLoginPage, clock }));
  app.use(refuseControlCharacters, checkCsrfToken);
  // Nothing in /admin, /it, the desk or documents with a password alone (when the policy says so), and money actions ask again.
  app.use(GATED_PATHS, secondFactorGate({ policy: secondFactorPolicy, factorCount: secondFactors.factorCount }));
  app.use(stepUpGuard({ policy: secondFactorPolicy, clock, factorCount: secondFactors.factorCount, stepUpAdjustmentCents: config.secondFactor.stepUpAdjustmentUnits * 100 }));

  app.use(
    signInRoutes({
      db,
      identity,
      signIn: externalSignIn,
      beginSession,
      clock,
      logger,
      secret: config.session.secret,
      publicUrl: config.server.publicUrl,
      cookie: { name: pendingSignInCookieName(config), options: sessionCookieOptions(config) },
      showLoginPage,
    }),
  );
  app.use(
    authRoutes({
      authenticate,
      beginSession,
      choices,
      cookie: { name: sessionCookieName(config), options: sessionCookieOptions(config) },
      deviceCookie: { name: deviceCookieName(config), options: sessionCookieOptions(config) },
      quoteCookie: quoteAccessCookie(config.server.secureCookies),
      absoluteHours: config.session.absoluteHours,
    }),
  );
  const factorCheck = secondFactorCheck({ db, clock, beginSession });
  app.use(secondFactorRoutes({ db, factors: secondFactors, check: factorCheck }));
  const passkeys = createPasskeys({ db, clock, factors: secondFactors, publicUrl: config.server.publicUrl, rpName: config.payments.brandName });
  app.use(passkeyRoutes({ passkeys, factors: secondFactors, check: factorCheck, clock, policy: secondFactorPolicy }));
  app.use(securityRoutes({ factors: secondFactors, clock, required: config.secondFactor.required }));
  const users = createUserManagement({ db, hasher, clock });
  app.use(myAccountRoutes({ db, clock, users, identity, session: config.session, localPasswords: config.identity.localPasswords }));
  app.use(personalDataRoutes({ db, clock, exportsPerHour: config.retention.dataExportsPerHour }));
  app.use(lowBalanceAlertRoutes({ db, clock }));
  const creditRefunds = createCreditRefunds({
    db,
    checkout,
    clock,
    logger,
    mailDomain: new URL(config.server.publicUrl).hostname,
    defaultLocale: config.i18n.defaultLocale,
    documents,
    onMailQueued: () => mail.kick(),
    onDocumentsIssued: (issued) => {
      prepareAttachments(issued);
      mail.kick();
    },
  });
  app.use(creditRefundRoutes({ clock, creditRefunds }));
  app.use(accountRoutes({ ledger, clock, timeZone: config.i18n.timeZone, printSystem }));
  app.use(preferenceRoutes({ db, clock, secureCookies: config.server.secureCookies }));
  app.use(topUpRoutes({ db, checkout, clock, printSystem }));
  app.use(voucherRedemptionRoutes({ db, clock, timeZone: config.i18n.timeZone, printSystem }));
  const voucherPurchases = createVoucherPurchases({ db, checkout, clock, timeZone: config.i18n.timeZone, orderExpiryMinutes: config.payments.orderExpiryMinutes });
  app.use(voucherPurchaseRoutes({ db, clock, timeZone: config.i18n.timeZone, publicUrl: config.server.publicUrl, purchases: voucherPurchases }));
  app.use(orderRoutes({ checkout, seller: config.seller, db, printSystem }));
  app.use(documentRoutes({ db, files: documentFiles, clock, downloadsPerMinute: config.documents.downloadsPerMinute }));
  app.use(adminRoutes({ config, db, clock, ledger, checkout, gateway, mail, outboxMails, users, identity, printSystem, creditRefunds, voucherPurchases, secondFactors }));
  app.use(itRoutes({ db, clock, themes, uploads }));
  app.use(deskRoutes({ quotes, sending: quoteSending, payments: createQuotePaymentDesk({ db, checkout, clock }) }));
  app.use(
    quoteRoutes({
      config,
      db,
      clock,
      logger,
      ledger,
      payment: createQuotePayment({ db, checkout, clock, timeZone: config.i18n.timeZone }),
      access: quoteAccess(config.session.secret, quoteAccessCookie(config.server.secureCookies), () => clock.now().getTime()),
      documentFiles,
    }),
  );

  app.use(notFoundHandler);
  app.use(errorHandler({ logger, defaultLocale: config.i18n.defaultLocale, translations }));
  const metricsApp = metrics && config.metrics.port !== undefined ? metricsOnlyApp({ registry: metrics.registry, token: config.metrics.token, logger }) : null;
  return { app, checkout, documents, documentFiles, documentMails, outboxMails, mail, quoteExpiry, metricsApp, printSystem, creditRefunds };
}

const isAdminPath = (path: string) => /^\/admin(\/|$)/i.test(path);
const isDeskPath = (path: string) => /^\/desk(\/|$)/i.test(path);

/** Where each redirect provider lives (its logout is there). */
const providerOrigins = (identity: IdentityRegistry) =>
  identity.all.flatMap(({ config: provider }) => {
    const home = provider.kind === 'oidc' ? provider.issuer : provider.kind === 'saml' ? provider.entryPoint : provider.kind === 'cas' ? provider.serverUrl : null;
    return home ? [new URL(home).origin] : [];
  });
