import * as client from 'openid-client';
import { refused, type ProviderFailure, type ProviderHealth, type VerifiedIdentity } from '../../domain/identity/identity.js';
import type { OidcProviderConfig } from '../../domain/identity/provider-config.js';
import type { RedirectIdentityProvider } from '../provider.js';
import { attributesOf, authnContextOf } from './claims.js';
import { describeError, failureOf } from './failures.js';
import { issuerConnection } from './issuer-connection.js';

export interface OidcProviderOptions {
  /** `/auth/<id>/callback` under PUBLIC_URL: the redirect_uri registered at the provider. */
  callbackUrl: string;
  /** Accept an http:// issuer (tests, the demo provider); production issuers are https. */
  allowInsecureHttp: boolean;
}

/**
 * OpenID Connect sign-in (authorization code + PKCE, state, nonce) with openid-client. Nothing is
 * fetched until the first sign-in: the portal starts while the provider is down.
 */
export function createOidcProvider(config: OidcProviderConfig, options: OidcProviderOptions): RedirectIdentityProvider {
  const issuer = issuerConnection(config, options.allowInsecureHttp);
  const scope = config.scopes.split(/\s+/).includes('openid') ? config.scopes : `openid ${config.scopes}`;

  return {
    id: config.id,
    kind: 'oidc',

    async start() {
      const configuration = await issuer.configuration().catch((error: unknown) => {
        throw new Error(`identity provider "${config.id}": discovery of ${config.issuer} failed: ${describeError(error)}`, { cause: error });
      });
      const pending = { state: client.randomState(), nonce: client.randomNonce(), verifier: client.randomPKCECodeVerifier() };
      const location = client.buildAuthorizationUrl(configuration, {
        redirect_uri: options.callbackUrl,
        scope,
        code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
      });
      return { location: location.href, pending };
    },

    async finish({ url, pending }) {
      const { state, nonce, verifier } = pending;
      if (!state || !nonce || !verifier) return refused('no sign-in was started in this browser (state, nonce or PKCE verifier missing)');
      try {
        return await signedIn(await issuer.configuration(), callbackAt(options.callbackUrl, url), { state, nonce, verifier });
      } catch (error) {
        return failureOf(error);
      }
    },

    logoutLocation({ idToken, returnTo }) {
      const configuration = issuer.discovered();
      if (!config.endSession || !configuration?.serverMetadata().end_session_endpoint) return undefined;
      const parameters: Record<string, string> = { post_logout_redirect_uri: returnTo };
      if (idToken) parameters.id_token_hint = idToken;
      try {
        return client.buildEndSessionUrl(configuration, parameters).href;
      } catch {
        // The discovery names an endpoint openid-client will not use (not a URL, or http for an https
        // provider): the portal's own logout goes on without the provider's.
        return undefined;
      }
    },

    async health(): Promise<ProviderHealth> {
      const checkedAt = new Date().toISOString();
      try {
        const metadata = (await issuer.discoverAgain()).serverMetadata();
        const logout = metadata.end_session_endpoint ? 'offers RP-initiated logout' : 'offers no end_session_endpoint';
        return { reachable: true, detail: `discovery of ${metadata.issuer} answered; it ${logout}`, checkedAt };
      } catch (error) {
        return { reachable: false, detail: `discovery of ${config.issuer} failed: ${describeError(error)}`, checkedAt };
      }
    },
  };
}

/**
 * The callback as the provider was told it: the query the browser brought, on our own callback URL
 * (the redirect_uri sent again to the token endpoint comes from it, never from a Host header).
 */
function callbackAt(callbackUrl: string, url: URL): URL {
  const current = new URL(callbackUrl);
  current.search = url.search;
  return current;
}

async function signedIn(configuration: client.Configuration, callback: URL, pending: { state: string; nonce: string; verifier: string }): Promise<VerifiedIdentity | ProviderFailure> {
  const tokens = await client.authorizationCodeGrant(configuration, callback, {
    pkceCodeVerifier: pending.verifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    idTokenExpected: true,
  });
  const idTokenClaims = tokens.claims();
  if (!idTokenClaims || !tokens.id_token) return refused('the token endpoint returned no ID token');
  // Most providers put profile claims in the userinfo answer only; openid-client refuses one for another `sub`.
  const userInfo = configuration.serverMetadata().userinfo_endpoint ? await client.fetchUserInfo(configuration, tokens.access_token, idTokenClaims.sub) : {};
  return {
    ok: true,
    subject: idTokenClaims.sub,
    attributes: attributesOf({ ...idTokenClaims, ...userInfo }),
    logout: { idToken: tokens.id_token },
    authnContext: authnContextOf(idTokenClaims),
  };
}
