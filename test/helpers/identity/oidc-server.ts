import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import Provider from 'oidc-provider';

/** The people the test provider knows: `sub` is what they type as login on its development pages. */
export const OIDC_ACCOUNTS = {
  jeanne: { sub: 'f47ac10b-58cc-4372-a567-0e02b2c3d479', name: 'Jeanne Dupont', email: 'jeanne.dupont@univ.example', preferred_username: 'jdupont', locale: 'fr', groups: ['staff', 'print-admins'] },
  sam: { sub: '9b2e6c1d-3f4a-4e8b-9c7d-5a1b2c3d4e5f', name: 'Sam Taylor', email: 'sam.taylor@univ.example', preferred_username: 'staylor', locale: 'en', groups: ['students'] },
} as const;

/** How the provider says the person authenticated (RFC 8176 `amr`, an `acr` of `ACR_VALUES`). */
export interface TestAuthn {
  amr?: string[];
  acr?: string;
}

/** The acr values the test provider may issue (oidc-provider issues none it does not list). */
export const ACR_VALUES = ['https://refeds.org/profile/mfa', 'urn:example:password'];

export interface OidcTestServer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /**
   * Follows the authorization URL like a browser, signs `sub` in and consents; returns the callback URL
   * carrying the code. With `authn`, the login says how the person authenticated: the ID token then
   * carries that `amr` and `acr` (an institution's MFA).
   */
  signIn(authorizationUrl: string, sub: string, authn?: TestAuthn): Promise<URL>;
  /** Follows the authorization URL and presses the login page's "cancel" (the provider answers access_denied). */
  cancel(authorizationUrl: string): Promise<URL>;
  close(): Promise<void>;
}

/**
 * oidc-provider on a free port of 127.0.0.1, with one confidential client and OIDC_ACCOUNTS. Its
 * development interactions (login and consent pages that take any password) stand in for the
 * institution's login page.
 */
export async function startOidcServer({ redirectUri, postLogoutRedirectUri }: { redirectUri: string; postLogoutRedirectUri: string }): Promise<OidcTestServer> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'recharge';
  const clientSecret = 'test-client-secret-for-the-oidc-provider-tests';
  const signingKey = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'test-signing-key', use: 'sig', alg: 'RS256' };
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], post_logout_redirect_uris: [postLogoutRedirectUri] }],
    findAccount: (_context: unknown, sub: string) => {
      const account = Object.values(OIDC_ACCOUNTS).find((candidate) => candidate.sub === sub);
      return account && { accountId: sub, claims: () => account };
    },
    // `amr` and `acr` with `openid`: the ID token carries them whenever the login recorded them, unasked, as Entra ID or Keycloak do.
    claims: { openid: ['sub', 'amr', 'acr'], profile: ['name', 'preferred_username', 'locale'], email: ['email'], groups: ['groups'] },
    cookies: { keys: ['test-cookie-signing-key'] },
    jwks: { keys: [signingKey] },
    acrValues: ACR_VALUES,
  });
  // The development login records no amr or acr: this one, beside it, finishes the login with them
  // (`login`, `amr` space-separated, `acr`), as an institution's login page does after its MFA.
  const interactions = provider as unknown as InteractionResults;
  const callback = provider.callback();
  server.on('request', (request, response) => {
    if (request.method !== 'POST' || !/^\/interaction\/[^/]+\/authn$/.test(new URL(request.url ?? '/', issuer).pathname)) return callback(request, response);
    void (async () => {
      const form = new URLSearchParams(await new Response(Readable.toWeb(request) as ReadableStream).text());
      const amr = (form.get('amr') ?? '').split(' ').filter(Boolean);
      const acr = form.get('acr') || undefined;
      const login = { accountId: form.get('login') ?? '', ...(amr.length > 0 ? { amr } : {}), ...(acr ? { acr } : {}) };
      const location = await interactions.interactionResult(request, response, { login }, { mergeWithLastSubmission: false });
      response.writeHead(303, { location }).end();
    })().catch((error: unknown) => response.writeHead(500).end(String(error)));
  });

  return {
    issuer,
    clientId,
    clientSecret,
    async signIn(authorizationUrl, sub, authn) {
      const browser = new Browser(redirectUri);
      const login = browser.page(await browser.go(authorizationUrl));
      const consent = browser.page(
        await (authn
          ? browser.go(`${login}/authn`, { login: sub, amr: (authn.amr ?? []).join(' '), acr: authn.acr ?? '' })
          : browser.go(login, { prompt: 'login', login: sub, password: 'any' })),
      );
      return browser.callback(await browser.go(consent, { prompt: 'consent' }));
    },
    async cancel(authorizationUrl) {
      const browser = new Browser(redirectUri);
      const login = browser.page(await browser.go(authorizationUrl));
      return browser.callback(await browser.go(`${login}/abort`));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** oidc-provider's API for custom login pages (test/types/oidc-provider.d.ts declares only what the other tests use). */
interface InteractionResults {
  interactionResult(request: http.IncomingMessage, response: http.ServerResponse, result: { login: { accountId: string; amr?: string[]; acr?: string } }, options: { mergeWithLastSubmission: boolean }): Promise<string>;
}

/** Where a browser stopped: a page of the provider, or the way back to the portal. */
type Stop = { page: string } | { callback: URL };

/** Just enough of a browser for the provider's pages: a cookie jar and redirects followed by hand. */
class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly redirectUri: string) {}

  /** GET `url` (POST `form` to it), then follow redirects until a page or the redirect to the portal. */
  async go(url: string, form?: Record<string, string>): Promise<Stop> {
    let response = await this.send(url, form);
    while (response.status >= 300 && response.status < 400) {
      const location = new URL(response.headers.get('location') ?? '', url);
      if (location.href.startsWith(this.redirectUri)) return { callback: location };
      url = location.href;
      response = await this.send(url);
    }
    if (response.status !== 200) throw new Error(`the provider answered ${url} with HTTP ${response.status}: ${await response.text()}`);
    return { page: url };
  }

  page(stop: Stop): string {
    if (!('page' in stop)) throw new Error(`expected a page of the provider, got the callback ${stop.callback.href}`);
    return stop.page;
  }

  callback(stop: Stop): URL {
    if (!('callback' in stop)) throw new Error(`expected the redirect to the portal, stopped at ${stop.page}`);
    return stop.callback;
  }

  private async send(url: string, form?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, { method: form ? 'POST' : 'GET', headers, body: form && new URLSearchParams(form).toString(), redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const separator = pair.indexOf('=');
      const [name, value] = [pair.slice(0, separator).trim(), pair.slice(separator + 1).trim()];
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}
