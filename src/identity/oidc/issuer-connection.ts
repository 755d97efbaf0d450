import * as client from 'openid-client';
import { secretVariable, type OidcProviderConfig } from '../../domain/identity/provider-config.js';
import { providerFetch } from './provider-fetch.js';

/** The provider's discovery document turned into an openid-client Configuration for our client. */
export interface IssuerConnection {
  /**
   * Discovered on first use and kept. A failed discovery is not kept: the next sign-in tries again, so
   * the portal starts, and recovers, while the provider is down.
   */
  configuration(): Promise<client.Configuration>;
  /** The kept configuration, if a discovery has succeeded (logout is synchronous and cannot wait for one). */
  discovered(): client.Configuration | undefined;
  /** A discovery of its own, neither kept nor taken from what is kept (health). */
  discoverAgain(): Promise<client.Configuration>;
}

export function issuerConnection(config: OidcProviderConfig, allowInsecureHttp: boolean): IssuerConnection {
  const issuer = new URL(config.issuer);
  const insecure = issuer.protocol === 'http:';
  if (insecure && !allowInsecureHttp) throw new Error(`identity provider "${config.id}": the issuer ${config.issuer} must use https (http only for tests and the demo)`);
  if (!config.secret) throw new Error(`identity provider "${config.id}": the client secret is missing (${secretVariable(config.id)})`);
  // client_secret_basic is what a client registered without naming a method gets (OpenID Connect Core
  // §9); openid-client alone would send the secret in the body, which such a client is refused.
  const clientAuthentication = client.ClientSecretBasic(config.secret);
  const discover = () =>
    client.discovery(issuer, config.clientId, undefined, clientAuthentication, {
      [client.customFetch]: providerFetch,
      // Seconds, for every request made with the resulting configuration too (token, JWKS, userinfo).
      timeout: config.timeoutMs / 1000,
      // The ID token arrives over TLS from the token endpoint, which openid-client deems enough; its
      // signature is checked anyway against the provider's JWKS, so an unsigned (alg "none") token or
      // one signed by another key is refused even if the channel or the discovery document lies.
      execute: [client.enableNonRepudiationChecks, ...(insecure ? [client.allowInsecureRequests] : [])],
    });

  let kept: Promise<client.Configuration> | undefined;
  let discovered: client.Configuration | undefined;
  return {
    configuration() {
      kept ??= discover().then(
        (configuration) => (discovered = configuration),
        (error: unknown) => {
          kept = undefined;
          throw error;
        },
      );
      return kept;
    },
    discovered: () => discovered,
    discoverAgain: discover,
  };
}
