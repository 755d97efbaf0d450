import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { configWarnings, ENVIRONMENT_KEYS, estimatedEntropyBits, EXAMPLE_SESSION_SECRET, loadConfig, projectRoot } from '../../src/config.js';
import { configProblems } from '../helpers/config-problems.js';

/** What `openssl rand -hex 32` prints. */
const SECRET = '9c1f5e02b7d84a63f0e2c9d17b5a48e36c0f1d2a7b9e84c35d6f0a1b2c3e4d5f';
const PAYPAL = { PAYPAL_CLIENT_ID: 'client-id', PAYPAL_CLIENT_SECRET: 'client-secret', PAYPAL_WEBHOOK_ID: 'WH-ID' };
const SMTP = { SMTP_HOST: 'smtp.example.edu', MAIL_FROM: 'Impressions <impressions@example.edu>' };
const PRODUCTION = { NODE_ENV: 'production', SESSION_SECRET: SECRET, PAYPAL_ENV: 'live', ...PAYPAL, ...SMTP };

describe('configuration', () => {
  it('merges the defaults, the environment file and environment variables into one frozen object', () => {
    const config = loadConfig({ env: { NODE_ENV: 'development', PORT: '8080', DATABASE_URL: 'postgres://u@db/recharge', SESSION_IDLE_MINUTES: '20' } });
    expect(config.server.port).to.equal(8080);
    expect(config.server.publicUrl).to.equal('http://localhost:8080');
    expect(config.log.level).to.equal('debug'); // from config/development.json
    expect(config.session.idleMinutes).to.equal(20);
    expect(config.database.target).to.deep.equal({ dialect: 'postgres', connectionString: 'postgres://u@db/recharge' });
    expect(Object.isFrozen(config) && Object.isFrozen(config.server)).to.equal(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).to.throw(TypeError);
  });

  it('defaults to an SQLite file under data/ and a generated session secret outside production', () => {
    const config = loadConfig({ env: { NODE_ENV: 'development' } });
    expect(config.database.target).to.deep.equal({ dialect: 'sqlite', filename: path.join(projectRoot, 'data', 'recharge.sqlite') });
    expect(config.session.secretGenerated).to.equal(true);
    expect(config.session.secret).to.have.length.of.at.least(32);
    expect(config.demo.enabled).to.equal(true);
  });

  it('reads PUBLIC_URL and derives secure cookies from https', () => {
    const config = loadConfig({ env: { NODE_ENV: 'development', PUBLIC_URL: 'https://print.example.edu/', TRUST_PROXY: '1' } });
    expect(config.server.publicUrl).to.equal('https://print.example.edu');
    expect(config.server.secureCookies).to.equal(true);
    expect(config.server.trustProxy).to.equal(1);
    expect(configProblems({ NODE_ENV: 'development', PUBLIC_URL: 'https://print.example.edu' })[0]).to.match(/^server\.trustProxy \(TRUST_PROXY\): must name the TLS-terminating proxy/);
  });

  it('names the key and its environment variable when a value is wrong', () => {
    expect(configProblems({ NODE_ENV: 'development', PORT: 'eighty' })[0]).to.match(/^server\.port \(PORT\): /);
    expect(configProblems({ NODE_ENV: 'development', PORT: '70000' })[0]).to.match(/^server\.port \(PORT\)/);
    expect(configProblems({ NODE_ENV: 'development', PUBLIC_URL: 'ftp://x' })[0]).to.match(/^server\.publicUrl \(PUBLIC_URL\): must be an http/);
    expect(configProblems({ NODE_ENV: 'development', SESSION_SECRET: 'short' })[0]).to.match(/^session\.secret \(SESSION_SECRET\): must be at least 32/);
    expect(configProblems({ NODE_ENV: 'development', DEMO_DATA: 'maybe' })[0]).to.match(/^demo\.enabled \(DEMO_DATA\)/);
    expect(configProblems({ NODE_ENV: 'development', TIME_ZONE: 'Mars/Olympus' })[0]).to.match(/^i18n\.timeZone \(TIME_ZONE\)/);
    expect(configProblems({ NODE_ENV: 'staging' })[0]).to.match(/^env: /);
    expect(configProblems({ NODE_ENV: 'development', THEME: '../etc' })[0]).to.match(/^branding\.defaultTheme \(THEME\): must be a theme folder name/);
    expect(configProblems({ NODE_ENV: 'development', BRANDING_REFRESH_SECONDS: '-1' })[0]).to.match(/^branding\.refreshSeconds \(BRANDING_REFRESH_SECONDS\)/);
    expect(configProblems({ NODE_ENV: 'development', LOGIN_SLOWED_INTERVAL_SECONDS: '0' })[0]).to.match(/^login\.slowedIntervalSeconds \(LOGIN_SLOWED_INTERVAL_SECONDS\)/);
  });

  it('lists every environment variable it reads in .env.example', () => {
    const listed = new Set(readFileSync(path.join(projectRoot, '.env.example'), 'utf8').match(/^[A-Z_]+(?==)/gm));
    expect(Object.keys(ENVIRONMENT_KEYS).filter((variable) => !listed.has(variable))).to.deep.equal([]);
  });

  it('resolves the themes and uploads folders from the project, and keeps uploads out of the themes', () => {
    const config = loadConfig({ env: { NODE_ENV: 'development' } });
    expect(config.branding.themesDir).to.equal(path.join(projectRoot, 'themes'));
    expect(config.branding.uploadsDir).to.equal(path.join(projectRoot, 'data', 'uploads'));
    expect(loadConfig({ env: { NODE_ENV: 'development', UPLOADS_DIR: '/srv/recharge/uploads' } }).branding.uploadsDir).to.equal('/srv/recharge/uploads');
    expect(configProblems({ NODE_ENV: 'development', UPLOADS_DIR: 'themes/default/assets' })[0]).to.match(/^branding\.uploadsDir \(UPLOADS_DIR\): must be outside the themes folder/);
  });

  it('refuses to start in production without a real session secret', () => {
    expect(configProblems({ ...PRODUCTION, SESSION_SECRET: undefined })).to.deep.equal(['session.secret (SESSION_SECRET): is required in production']);
    expect(configProblems({ ...PRODUCTION, SESSION_SECRET: EXAMPLE_SESSION_SECRET })[0]).to.match(/^session\.secret \(SESSION_SECRET\): is the example value/);
  });

  it('refuses a session secret that does not look random in production, naming a safe way to make one', () => {
    for (const weak of ['x'.repeat(32), 'ab'.repeat(32), 'a'.repeat(20) + 'b'.repeat(20), '0123456789abcdef'.repeat(2), 'Recharge2026!'.repeat(3), `${'9c1f5e02b7d84a63'.repeat(3)}9c1f`, `${'password'.repeat(4)}1`, `x${'Secret!'.repeat(6)}`]) {
      expect(configProblems({ ...PRODUCTION, SESSION_SECRET: weak }), weak).to.have.lengthOf(1);
      expect(configProblems({ ...PRODUCTION, SESSION_SECRET: weak })[0]).to.match(/^session\.secret \(SESSION_SECRET\): does not look random .*openssl rand -hex 32/);
    }
    expect(estimatedEntropyBits('x'.repeat(32))).to.equal(0);
    // A random secret keeps nearly all its estimate: 64 hex digits carry 4 bits each at most.
    expect(estimatedEntropyBits(SECRET)).to.be.within(200, 256);
    // Outside production a weak secret is the developer's business.
    expect(loadConfig({ env: { NODE_ENV: 'development', SESSION_SECRET: 'x'.repeat(32) } }).session.secret).to.equal('x'.repeat(32));
  });

  it('refuses TRUST_PROXY=true in production, and warns that an http:// PUBLIC_URL sends the cookie in clear', () => {
    for (const everyHop of ['true', '0.0.0.0/0', '10.0.0.1, ::/0', '0.0.0.0/1,128.0.0.0/1', '2000::/3']) {
      expect(configProblems({ ...PRODUCTION, TRUST_PROXY: everyHop }), everyHop).to.deep.equal([
        'server.trustProxy (TRUST_PROXY): trusts every hop (true, or a subnet wider than /8 or /16 for IPv6), so clients can choose the address the login throttle sees; give the number of proxies in front (e.g. 1) or their addresses',
      ]);
    }
    expect(loadConfig({ env: { ...PRODUCTION, TRUST_PROXY: '1' } }).server.trustProxy).to.equal(1);
    expect(loadConfig({ env: { ...PRODUCTION, TRUST_PROXY: '10.0.0.0/8' } }).server.trustProxy).to.equal('10.0.0.0/8');
    expect(loadConfig({ env: { ...PRODUCTION, TRUST_PROXY: 'loopback, fd00::/48' } }).server.trustProxy).to.equal('loopback, fd00::/48');
    expect(configWarnings(loadConfig({ env: { ...PRODUCTION, PUBLIC_URL: 'http://print.example.edu' } }))).to.deep.equal([
      'PUBLIC_URL is http://print.example.edu: without https the session cookie is sent in clear and not marked Secure; put the portal behind HTTPS and set PUBLIC_URL=https://…',
    ]);
    expect(configWarnings(loadConfig({ env: { ...PRODUCTION, PUBLIC_URL: 'https://print.example.edu', TRUST_PROXY: '1' } }))).to.deep.equal([]);
    expect(configWarnings(loadConfig({ env: { NODE_ENV: 'development' } }))).to.deep.equal([]);
  });

  it('refuses demo data and simulated payments in production unless explicitly allowed', () => {
    expect(configProblems({ ...PRODUCTION, DEMO_DATA: 'true' })[0]).to.match(/^demo\.enabled \(DEMO_DATA\): demo data is refused in production/);
    expect(configProblems({ ...PRODUCTION, PAYPAL_ENV: 'simulator' })[0]).to.match(/^payments\.provider \(PAYPAL_ENV\): simulated payments are refused/);
    const allowed = loadConfig({
      env: { ...PRODUCTION, DEMO_DATA: 'true', ALLOW_DEMO_IN_PRODUCTION: 'true', PAYPAL_ENV: 'simulator', ALLOW_SIMULATED_PAYMENTS_IN_PRODUCTION: 'yes' },
    });
    expect(allowed.demo.enabled).to.equal(true);
    expect(allowed.payments.provider).to.equal('simulator');
  });

  it('needs PayPal credentials and a webhook id to talk to PayPal, and keeps the secret out of files', () => {
    expect(configProblems({ NODE_ENV: 'development', PAYPAL_ENV: 'sandbox' })).to.deep.equal([
      'payments.clientId (PAYPAL_CLIENT_ID): is required with PAYPAL_ENV=sandbox',
      'payments.clientSecret (PAYPAL_CLIENT_SECRET): is required with PAYPAL_ENV=sandbox',
      'payments.webhookId (PAYPAL_WEBHOOK_ID): is required with PAYPAL_ENV=sandbox',
    ]);
    expect(loadConfig({ env: { NODE_ENV: 'development', PAYPAL_ENV: 'sandbox', ...PAYPAL } }).payments).to.include({ provider: 'sandbox', clientSecret: 'client-secret' });
  });

  it('starts in production with a real secret, no demo data, real payments and mail sent by SMTP', () => {
    const config = loadConfig({ env: PRODUCTION });
    expect(config.demo.enabled).to.equal(false);
    expect(config.session.secretGenerated).to.equal(false);
    expect(config.mail).to.deep.include({ delivery: 'smtp', from: 'Impressions <impressions@example.edu>', sendOnIssue: true });
    expect(config.mail.smtp).to.deep.equal({ host: 'smtp.example.edu', port: 587, secure: false, requireTls: false });
  });

  it('keeps mail in the portal by default, and needs a server and a real sender to send it', () => {
    expect(loadConfig({ env: { NODE_ENV: 'development' } }).mail.delivery).to.equal('keep');
    expect(configProblems({ NODE_ENV: 'development', MAIL_DELIVERY: 'smtp' })).to.deep.equal(['mail.smtp.host (SMTP_HOST): is required with MAIL_DELIVERY=smtp']);
    expect(configProblems({ ...PRODUCTION, SMTP_HOST: undefined, MAIL_FROM: undefined })).to.deep.equal([
      'mail.smtp.host (SMTP_HOST): is required with MAIL_DELIVERY=smtp',
      'mail.from (MAIL_FROM): is the example sender; set the address receipts are sent from',
    ]);
    expect(configProblems({ NODE_ENV: 'development', SMTP_USER: 'mailer' })).to.deep.equal(['mail.smtp.password (SMTP_PASSWORD): SMTP_USER and SMTP_PASSWORD go together']);
    const sending = loadConfig({ env: { ...PRODUCTION, SMTP_PORT: '465', SMTP_SECURE: 'true', SMTP_USER: 'mailer', SMTP_PASSWORD: 'p4ss' } });
    expect(sending.mail.smtp).to.deep.include({ port: 465, secure: true, user: 'mailer', password: 'p4ss' });
    for (const from of ['no address', 'a@b', 'Name <a@b.c', 'x@y.z\r\nBcc: all@example.edu', 'Name\n <a@b.co>']) {
      expect(configProblems({ NODE_ENV: 'development', MAIL_FROM: from })[0], from).to.match(/^mail\.from \(MAIL_FROM\): must be an address/);
    }
    expect(loadConfig({ env: { NODE_ENV: 'development', MAIL_FROM: 'no-reply@example.edu' } }).mail.from).to.equal('no-reply@example.edu');
  });

  it("takes the seller's address customers reply to only as an address, and gives the demo one", () => {
    for (const email of ['reprographie', 'x@y.z\r\nBcc: all@example.edu', 'Repro <repro@example.edu']) {
      expect(configProblems({ NODE_ENV: 'development', SELLER_EMAIL: email })[0], email).to.match(/^seller\.email \(SELLER_EMAIL\): must be empty or an address/);
    }
    expect(loadConfig({ env: { NODE_ENV: 'test' } }).seller.email).to.equal('');
    expect(loadConfig({ env: { NODE_ENV: 'development' } }).seller.email).to.equal('reprographie@example.edu'); // from config/development.json
    expect(loadConfig({ env: { NODE_ENV: 'development', SELLER_EMAIL: 'Reprographie <repro@univ.example>' } }).seller.email).to.equal('Reprographie <repro@univ.example>');
  });

  describe('identity providers', () => {
    const OIDC = { id: 'uni', kind: 'oidc', label: { fr: 'Université', en: 'University' }, issuer: 'https://idp.univ.example/realms/univ', clientId: 'recharge' };
    const CAS = { id: 'ent', kind: 'cas', label: 'ENT', serverUrl: 'https://cas.univ.example/cas/' };
    const LDAP = { id: 'ad-staff', kind: 'ldap', label: 'Active Directory', url: 'ldaps://ad.univ.example', bindDn: 'CN=svc-print,OU=Services,DC=univ,DC=example', searchBase: 'DC=univ,DC=example' };
    const SAML = { id: 'renater', kind: 'saml', label: 'Renater', entryPoint: 'https://idp.univ.example/idp/profile/SAML2/Redirect/SSO', idpIssuer: 'https://idp.univ.example/idp/shibboleth', idpCertificates: ['MIIC…'] };
    const providers = (...list: object[]) => JSON.stringify(list);

    it('reads IDENTITY_PROVIDERS, with defaults, and each secret from IDENTITY_<ID>_SECRET', () => {
      const config = loadConfig({
        env: { NODE_ENV: 'development', IDENTITY_PROVIDERS: providers(OIDC, CAS, LDAP, SAML), IDENTITY_UNI_SECRET: 'client-secret', IDENTITY_AD_STAFF_SECRET: 'service-password', LOCAL_PASSWORDS: 'staff', WELCOME_CREDIT_UNITS: '5' },
      });
      expect(config.identity.localPasswords).to.equal('staff');
      expect(config.identity.welcomeCreditUnits).to.equal(5);
      const [uni, ent, staff, renater] = config.identity.providers;
      expect(uni).to.deep.include({ ...OIDC, secret: 'client-secret', scopes: 'openid profile email', endSession: true, roleRules: [], defaultRole: 'user', ownsProfile: true, timeoutMs: 10_000 });
      expect(ent).to.deep.include({ serverUrl: 'https://cas.univ.example/cas', version: 3 });
      expect(staff).to.deep.include({ secret: 'service-password', startTls: false, subjectAttribute: 'entryUUID', userFilter: '(&(objectClass=inetOrgPerson)(uid={username}))' });
      expect(renater).to.deep.include({ clockSkewSeconds: 60 }).and.not.have.property('secret');
      expect(loadConfig({ env: { NODE_ENV: 'development' } }).identity).to.deep.include({ providers: [], localPasswords: 'everyone', welcomeCreditUnits: 0 });
      expect(configProblems({ NODE_ENV: 'development', IDENTITY_PROVIDERS: '[{' })[0]).to.match(/^identity\.providers \(IDENTITY_PROVIDERS\): not JSON: /);
    });

    it('refuses a secret written in IDENTITY_PROVIDERS, naming the variable it belongs in', () => {
      expect(configProblems({ NODE_ENV: 'development', IDENTITY_PROVIDERS: providers(CAS, { ...OIDC, secret: 'client-secret' }) })).to.deep.equal([
        'identity.providers.1.secret: secrets come only from the environment (IDENTITY_UNI_SECRET)',
      ]);
    });

    it('names IDENTITY_<ID>_SECRET when an OpenID Connect or LDAP provider has none', () => {
      expect(configProblems({ NODE_ENV: 'development', IDENTITY_PROVIDERS: providers(OIDC, CAS, LDAP) })).to.deep.equal([
        'identity.providers.0.secret: is required: set IDENTITY_UNI_SECRET',
        'identity.providers.2.secret: is required: set IDENTITY_AD_STAFF_SECRET',
      ]);
    });

    it('refuses two providers with one id, and the id of the built-in demo provider', () => {
      expect(configProblems({ NODE_ENV: 'development', IDENTITY_PROVIDERS: providers(OIDC, { ...CAS, id: 'uni' }), IDENTITY_UNI_SECRET: 'client-secret' })).to.deep.equal([
        'identity.providers.1.id: uni is used by two providers',
      ]);
      expect(configProblems({ NODE_ENV: 'development', IDENTITY_PROVIDERS: providers({ ...CAS, id: 'demo' }) })).to.deep.equal([
        'identity.providers.0.id: "demo" is the built-in demo provider\'s id',
      ]);
    });

    it('refuses providers reached without TLS in production: http issuers and servers, ldap:// without StartTLS', () => {
      const secrets = { IDENTITY_UNI_SECRET: 'client-secret', IDENTITY_AD_STAFF_SECRET: 'service-password' };
      const inProduction = (...list: object[]) => configProblems({ ...PRODUCTION, ...secrets, IDENTITY_PROVIDERS: providers(...list) });
      expect(inProduction({ ...OIDC, issuer: 'http://idp.univ.example/realms/univ' }, { ...CAS, serverUrl: 'http://cas.univ.example/cas' }, { ...LDAP, url: 'ldap://ad.univ.example' })).to.deep.equal([
        'identity.providers.0.id: must be reached over TLS in production (https://, ldaps:// or startTls)',
        'identity.providers.1.id: must be reached over TLS in production (https://, ldaps:// or startTls)',
        'identity.providers.2.url: must be reached over TLS in production (https://, ldaps:// or startTls)',
      ]);
      expect(inProduction({ ...SAML, entryPoint: 'http://idp.univ.example/idp/profile/SAML2/Redirect/SSO' })).to.have.lengthOf(1);
      const accepted = loadConfig({ env: { ...PRODUCTION, ...secrets, IDENTITY_PROVIDERS: providers(OIDC, CAS, LDAP, SAML, { ...LDAP, id: 'ldap-starttls', url: 'ldap://ldap.univ.example', startTls: true }), IDENTITY_LDAP_STARTTLS_SECRET: 'x' } });
      expect(accepted.identity.providers.map((provider) => provider.id)).to.deep.equal(['uni', 'ent', 'ad-staff', 'renater', 'ldap-starttls']);
      // Outside production, a test or demo provider may speak plain http.
      expect(loadConfig({ env: { NODE_ENV: 'development', ...secrets, IDENTITY_PROVIDERS: providers({ ...OIDC, issuer: 'http://127.0.0.1:8080' }) } }).identity.providers).to.have.lengthOf(1);
    });

    it('refuses LOCAL_PASSWORDS=staff when no provider is configured: nobody else could sign in', () => {
      expect(configProblems({ NODE_ENV: 'development', DEMO_IDENTITY_PROVIDER: 'false', LOCAL_PASSWORDS: 'staff' })).to.deep.equal([
        'identity.localPasswords (LOCAL_PASSWORDS): is staff, but no identity provider is configured: nobody else could sign in',
      ]);
      // The demo mode's built-in provider is one.
      expect(loadConfig({ env: { NODE_ENV: 'development', LOCAL_PASSWORDS: 'staff' } }).identity.localPasswords).to.equal('staff');
      expect(configProblems({ NODE_ENV: 'development', LOCAL_PASSWORDS: 'nobody' })[0]).to.match(/^identity\.localPasswords \(LOCAL_PASSWORDS\): /);
    });
  });

  describe('with its own config folder', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'recharge-config-'));
      await writeFile(path.join(dir, 'default.json'), await import('node:fs/promises').then((fs) => fs.readFile(path.join(projectRoot, 'config', 'default.json'), 'utf8')));
    });
    afterEach(() => rm(dir, { recursive: true, force: true }));

    it('refuses a secret written in a JSON file: secrets come only from the environment', async () => {
      await writeFile(path.join(dir, 'development.json'), JSON.stringify({ session: { secret: SECRET } }));
      expect(configProblems({ NODE_ENV: 'development' }, dir)).to.deep.equal([
        'session.secret (config/development.json): secrets come only from the environment (SESSION_SECRET)',
      ]);
    });

    it('refuses a database URL with a password in a JSON file, but not one without', async () => {
      await writeFile(path.join(dir, 'development.json'), JSON.stringify({ database: { url: 'postgres://recharge:hunter22@db/recharge' } }));
      expect(configProblems({ NODE_ENV: 'development' }, dir)[0]).to.equal('database.url (config/development.json): secrets come only from the environment (DATABASE_URL)');
      await writeFile(path.join(dir, 'development.json'), JSON.stringify({ database: { url: 'postgres://db/recharge' } }));
      expect(loadConfig({ env: { NODE_ENV: 'development' }, configDir: dir }).database.target).to.deep.equal({ dialect: 'postgres', connectionString: 'postgres://db/recharge' });
    });

    it('refuses an SMTP password written in a JSON file', async () => {
      await writeFile(path.join(dir, 'development.json'), JSON.stringify({ mail: { smtp: { user: 'mailer', password: 'p4ss' } } }));
      expect(configProblems({ NODE_ENV: 'development' }, dir)).to.deep.equal(['mail.smtp.password (config/development.json): secrets come only from the environment (SMTP_PASSWORD)']);
    });

    it('refuses an identity provider secret written in a JSON file', async () => {
      const provider = { id: 'ad-staff', kind: 'ldap', label: 'AD', url: 'ldaps://ad.univ.example', bindDn: 'CN=svc', searchBase: 'DC=univ', secret: 'service-password' };
      await writeFile(path.join(dir, 'development.json'), JSON.stringify({ identity: { providers: [provider] } }));
      expect(configProblems({ NODE_ENV: 'development', IDENTITY_AD_STAFF_SECRET: 'service-password' }, dir)).to.deep.equal([
        'identity.providers.0.secret: secrets come only from the environment (IDENTITY_AD_STAFF_SECRET)',
      ]);
      await writeFile(path.join(dir, 'development.json'), JSON.stringify({ identity: { providers: [{ ...provider, secret: undefined }] } }));
      expect(loadConfig({ env: { NODE_ENV: 'development', IDENTITY_AD_STAFF_SECRET: 'service-password' }, configDir: dir }).identity.providers[0]).to.deep.include({ secret: 'service-password' });
    });

    it('names a file that is not valid JSON', async () => {
      await writeFile(path.join(dir, 'development.json'), '{ "server": ');
      expect(configProblems({ NODE_ENV: 'development' }, dir)[0]).to.match(/^development\.json: /);
    });
  });
});
