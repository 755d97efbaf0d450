import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProviderFailure, VerifiedIdentity } from '../../src/domain/identity/identity.js';
import { providerConfigSchema, type OidcProviderConfig } from '../../src/domain/identity/provider-config.js';
import { createOidcProvider } from '../../src/identity/oidc/oidc-provider.js';
import type { PendingState, RedirectIdentityProvider } from '../../src/identity/provider.js';
import { startForgingOidcServer, unsignedJwt, type ForgingOidcServer } from '../helpers/identity/forging-oidc-server.js';
import { OIDC_ACCOUNTS, startOidcServer, type OidcTestServer } from '../helpers/identity/oidc-server.js';

const CALLBACK_URL = 'https://recharge.example/auth/univ/callback';
const RETURN_TO = 'https://recharge.example/login';
const TIMEOUT_MS = 1000;

function oidcConfig(settings: { issuer: string; clientId: string; secret: string; scopes?: string; endSession?: boolean; timeoutMs?: number }): OidcProviderConfig {
  const config = providerConfigSchema.parse({ id: 'univ', kind: 'oidc', label: 'Université', scopes: 'openid profile email groups', ...settings });
  if (config.kind !== 'oidc') throw new Error('expected an OpenID Connect configuration');
  return config;
}

const providerFor = (server: { issuer: string; clientId: string; clientSecret: string }, settings: { endSession?: boolean; timeoutMs?: number } = {}) =>
  createOidcProvider(oidcConfig({ issuer: server.issuer, clientId: server.clientId, secret: server.clientSecret, ...settings }), { callbackUrl: CALLBACK_URL, allowInsecureHttp: true });

function expectSignedIn(result: VerifiedIdentity | ProviderFailure): VerifiedIdentity {
  if (!result.ok) expect.fail(`expected a sign-in, got ${result.reason}: ${result.detail}`);
  return result;
}

function expectFailure(result: VerifiedIdentity | ProviderFailure, reason: ProviderFailure['reason'], detail: RegExp): void {
  if (result.ok) expect.fail(`expected ${reason}, got a sign-in as ${result.subject}`);
  expect(result.reason, result.detail).to.equal(reason);
  expect(result.detail).to.match(detail);
}

/** One value the browser kept between start and finish. */
function kept(pending: PendingState, name: 'state' | 'nonce' | 'verifier'): string {
  return pending[name] ?? expect.fail(`start() kept no ${name}`);
}

/** Runs `work`, and how long it took (ms). */
async function timed<T>(work: () => Promise<T>): Promise<{ result: T; elapsed: number }> {
  const started = performance.now();
  const result = await work();
  return { result, elapsed: performance.now() - started };
}

/** A port where nothing listens. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('OpenID Connect sign-in against oidc-provider', () => {
  let op: OidcTestServer;
  let provider: RedirectIdentityProvider;

  before(async () => {
    op = await startOidcServer({ redirectUri: CALLBACK_URL, postLogoutRedirectUri: RETURN_TO });
    provider = providerFor(op);
  });
  after(() => op?.close());

  /** Starts a sign-in and signs `sub` in at the provider: the callback and what the browser kept. */
  async function signedInAtProvider(sub: string = OIDC_ACCOUNTS.jeanne.sub): Promise<{ url: URL; pending: PendingState }> {
    const { location, pending } = await provider.start();
    return { url: await op.signIn(location, sub), pending };
  }

  it('sends the browser with PKCE S256, state and nonce, and keeps them for the return', async () => {
    const { location, pending } = await provider.start();
    const query = new URL(location).searchParams;
    expect(location.startsWith(`${op.issuer}/`)).to.equal(true);
    expect(Object.keys(pending).sort()).to.deep.equal(['nonce', 'state', 'verifier']);
    expect(query.get('response_type')).to.equal('code');
    expect(query.get('client_id')).to.equal(op.clientId);
    expect(query.get('redirect_uri')).to.equal(CALLBACK_URL);
    expect(query.get('scope')).to.equal('openid profile email groups');
    expect(query.get('code_challenge_method')).to.equal('S256');
    expect(query.get('code_challenge')).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(query.get('state')).to.equal(pending.state);
    expect(query.get('nonce')).to.equal(pending.nonce);
    expect(query.get('code_challenge')).to.not.equal(pending.verifier);
  });

  it('asks for the openid scope even when the configured scopes forget it', async () => {
    const forgetful = createOidcProvider(oidcConfig({ issuer: op.issuer, clientId: op.clientId, secret: op.clientSecret, scopes: 'profile email' }), { callbackUrl: CALLBACK_URL, allowInsecureHttp: true });
    expect(new URL((await forgetful.start()).location).searchParams.get('scope')).to.equal('openid profile email');
  });

  it('signs each person in as their sub, with the claims of the ID token and userinfo as attributes', async () => {
    for (const account of Object.values(OIDC_ACCOUNTS)) {
      const identity = expectSignedIn(await provider.finish(await signedInAtProvider(account.sub)));
      expect(identity.subject).to.equal(account.sub);
      expect(identity.attributes).to.deep.include({
        sub: [account.sub],
        name: [account.name],
        email: [account.email],
        preferred_username: [account.preferred_username],
        locale: [account.locale],
        groups: [...account.groups],
        iss: [op.issuer],
        aud: [op.clientId],
      });
      expect(identity.logout?.idToken).to.match(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    }
  });

  it('refuses a callback whose state is not the one this browser was given', async () => {
    const { url, pending } = await signedInAtProvider();
    const other = await provider.start();
    expectFailure(await provider.finish({ url, pending: { ...pending, state: kept(other.pending, 'state') } }), 'refused', /state/);
  });

  it('refuses a callback without state', async () => {
    const { url, pending } = await signedInAtProvider();
    url.searchParams.delete('state');
    expectFailure(await provider.finish({ url, pending }), 'refused', /"state" missing/);
  });

  it('refuses a callback when this browser started no sign-in', async () => {
    const { url } = await signedInAtProvider();
    expectFailure(await provider.finish({ url, pending: {} }), 'refused', /no sign-in was started/);
  });

  it('refuses an ID token carrying the nonce of another sign-in', async () => {
    const { url, pending } = await signedInAtProvider();
    const other = await provider.start();
    expectFailure(await provider.finish({ url, pending: { ...pending, nonce: kept(other.pending, 'nonce') } }), 'refused', /"nonce" claim value/);
  });

  it('refuses an authorization code used twice', async () => {
    const callback = await signedInAtProvider();
    expectSignedIn(await provider.finish(callback));
    expectFailure(await provider.finish(callback), 'refused', /invalid_grant/);
  });

  it('reports a person who cancelled at the provider as cancelled', async () => {
    const { location, pending } = await provider.start();
    expectFailure(await provider.finish({ url: await op.cancel(location), pending }), 'cancelled', /access_denied/);
  });

  it('sends the browser to the end_session_endpoint at logout, which the provider accepts', async () => {
    const identity = expectSignedIn(await provider.finish(await signedInAtProvider()));
    const location = provider.logoutLocation?.({ idToken: identity.logout?.idToken, returnTo: RETURN_TO });
    if (!location) return expect.fail('expected a logout location');
    const logout = new URL(location);
    expect(`${logout.origin}${logout.pathname}`).to.equal(`${op.issuer}/session/end`);
    expect(Object.fromEntries(logout.searchParams)).to.deep.equal({ post_logout_redirect_uri: RETURN_TO, id_token_hint: identity.logout?.idToken, client_id: op.clientId });
    // The provider answers with its "do you want to sign out" page, not an error about the hint or the return address.
    const page = await fetch(logout, { redirect: 'manual' });
    expect(page.status, await page.text()).to.equal(200);
  });

  it('offers no logout location when end of session is turned off, or before any discovery', async () => {
    const turnedOff = providerFor(op, { endSession: false });
    await turnedOff.start();
    expect(turnedOff.logoutLocation?.({ idToken: 'a.b.c', returnTo: RETURN_TO })).to.equal(undefined);
    expect(providerFor(op).logoutLocation?.({ idToken: 'a.b.c', returnTo: RETURN_TO })).to.equal(undefined);
  });

  it('reports the provider healthy when its discovery answers', async () => {
    const health = await provider.health();
    expect(health.reachable, health.detail).to.equal(true);
    expect(health.detail).to.equal(`discovery of ${op.issuer} answered; it offers RP-initiated logout`);
    expect(Date.parse(health.checkedAt)).to.be.closeTo(Date.now(), 5_000);
  });

  it('reports a provider where nothing listens as unreachable, without throwing', async () => {
    const port = await closedPort();
    const health = await providerFor({ issuer: `http://127.0.0.1:${port}`, clientId: 'recharge', clientSecret: 'secret' }).health();
    expect(health.reachable).to.equal(false);
    expect(health.detail).to.match(new RegExp(`discovery of http://127.0.0.1:${port} failed: .*did not answer`));
  });

  it('refuses an http issuer unless allowed, and a provider without its secret', () => {
    const settings = { issuer: op.issuer, clientId: op.clientId, secret: op.clientSecret };
    expect(() => createOidcProvider(oidcConfig(settings), { callbackUrl: CALLBACK_URL, allowInsecureHttp: false })).to.throw(/must use https/);
    const withoutSecret = { ...oidcConfig(settings), secret: undefined };
    expect(() => createOidcProvider(withoutSecret, { callbackUrl: CALLBACK_URL, allowInsecureHttp: true })).to.throw(/IDENTITY_UNIV_SECRET/);
  });
});

describe('OpenID Connect sign-in against a provider that forges its answers', () => {
  let forging: ForgingOidcServer;
  let provider: RedirectIdentityProvider;
  const SUB = 'forged-subject';

  before(async () => {
    forging = await startForgingOidcServer();
    provider = providerFor(forging, { timeoutMs: TIMEOUT_MS });
  });
  after(() => forging?.close());
  beforeEach(() => {
    forging.mode = 'up';
    forging.userInfo = { sub: SUB, name: 'Ada Forge', email_verified: true, address: { locality: 'Lyon' }, groups: ['staff', { nested: 'ignored' }] };
  });

  /** The claims a genuine ID token for this sign-in would carry. */
  const genuineClaims = (nonce: string | undefined): Record<string, unknown> => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: forging.issuer, aud: forging.clientId, sub: SUB, iat: now, exp: now + 300, nonce };
  };

  /** Starts a sign-in, has the token endpoint answer the ID token `forge` makes, and finishes it. */
  async function finishWith(forge: (claims: Record<string, unknown>) => string | Promise<string>): Promise<VerifiedIdentity | ProviderFailure> {
    const { pending } = await provider.start();
    forging.idToken = await forge(genuineClaims(pending.nonce));
    const url = new URL(CALLBACK_URL);
    url.search = new URLSearchParams({ code: 'forged-code', state: kept(pending, 'state') }).toString();
    return provider.finish({ url, pending });
  }

  it('accepts a genuine token (the baseline of the forgeries below), keeping lists and plain values only', async () => {
    const identity = expectSignedIn(await finishWith((claims) => forging.sign(claims)));
    expect(identity.subject).to.equal(SUB);
    expect(identity.attributes).to.deep.include({ sub: [SUB], name: ['Ada Forge'], email_verified: ['true'], groups: ['staff'] });
    expect(identity.attributes).to.not.have.property('address');
  });

  it('refuses an ID token for another audience', async () => {
    expectFailure(await finishWith((claims) => forging.sign({ ...claims, aud: 'another-client' })), 'refused', /"aud"/);
  });

  it('refuses an ID token from another issuer', async () => {
    expectFailure(await finishWith((claims) => forging.sign({ ...claims, iss: 'https://evil.example' })), 'refused', /"iss"/);
  });

  it('refuses an unsigned ID token (alg none), even from a provider whose discovery lists none', async () => {
    expectFailure(await finishWith(unsignedJwt), 'refused', /unsupported JWS "alg"/);
  });

  it('refuses an ID token signed by a key the provider does not publish, under the kid of one it does', async () => {
    expectFailure(await finishWith((claims) => forging.sign(claims, forging.foreignKey)), 'refused', /signature/);
  });

  it('refuses an ID token without the nonce', async () => {
    expectFailure(await finishWith((claims) => forging.sign({ ...claims, nonce: undefined })), 'refused', /"nonce" \(nonce\) claim missing/);
  });

  it('refuses userinfo about another person than the ID token', async () => {
    forging.userInfo = { sub: 'someone-else', name: 'Eve' };
    expectFailure(await finishWith((claims) => forging.sign(claims)), 'refused', /"sub"/);
  });

  it('reports a provider that stops answering as unavailable once the timeout has passed, not later', async function () {
    this.timeout(TIMEOUT_MS * 5);
    const { pending } = await provider.start();
    forging.mode = 'silent';
    const url = new URL(`${CALLBACK_URL}?code=forged-code&state=${kept(pending, 'state')}`);
    const { result, elapsed } = await timed(() => provider.finish({ url, pending }));
    expectFailure(result, 'unavailable', /timed out|timeout/i);
    expect(elapsed).to.be.within(TIMEOUT_MS - 50, TIMEOUT_MS + 1000);
  });

  it('offers no logout location when the end_session_endpoint is unusable', async () => {
    forging.endSessionEndpoint = 'not a URL';
    const misdescribed = providerFor(forging);
    await misdescribed.start();
    forging.endSessionEndpoint = `${forging.issuer}/logout`;
    expect(misdescribed.logoutLocation?.({ idToken: 'a.b.c', returnTo: RETURN_TO })).to.equal(undefined);
  });

  it('reports a provider answering 503 as unavailable', async () => {
    const { pending } = await provider.start();
    forging.mode = 'failing';
    const url = new URL(`${CALLBACK_URL}?code=forged-code&state=${kept(pending, 'state')}`);
    expectFailure(await provider.finish({ url, pending }), 'unavailable', /answered HTTP 503/);
  });

  it('reports a provider gone between the start and the return as unavailable', async () => {
    const leaving = await startForgingOidcServer();
    const gone = providerFor(leaving);
    const { pending } = await gone.start();
    await leaving.close();
    const url = new URL(`${CALLBACK_URL}?code=forged-code&state=${kept(pending, 'state')}`);
    expectFailure(await gone.finish({ url, pending }), 'unavailable', /did not answer/);
  });

  it('reports a silent provider unhealthy within the timeout', async function () {
    this.timeout(TIMEOUT_MS * 5);
    forging.mode = 'silent';
    const { result, elapsed } = await timed(() => provider.health());
    expect(result.reachable).to.equal(false);
    expect(elapsed).to.be.within(TIMEOUT_MS - 50, TIMEOUT_MS + 1000);
  });

  it('discovers on the first sign-in, not at creation, keeps the discovery, and tries again after a failure', async () => {
    const before = forging.discoveries;
    forging.mode = 'failing';
    const fresh = providerFor(forging, { timeoutMs: TIMEOUT_MS });
    expect(forging.discoveries).to.equal(before);
    let failure: unknown;
    await fresh.start().catch((error: unknown) => (failure = error));
    expect(String(failure)).to.match(new RegExp(`discovery of ${forging.issuer} failed: .*answered HTTP 503`));
    forging.mode = 'up';
    await fresh.start();
    await fresh.start();
    expect(forging.discoveries).to.equal(before + 1);
  });
});
