import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';

/**
 * A hand-made OpenID provider for what a real one never does: its token endpoint answers whatever ID
 * token the test forged (another audience or issuer, unsigned, signed by a key it does not publish),
 * its userinfo endpoint whatever claims the test chose, and the whole provider can fail or go silent.
 * It publishes one RSA key; its discovery lists `none` among its signing algorithms, so that only the
 * client's own signature check stands between an unsigned token and a sign-in.
 */
export interface ForgingOidcServer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** `up`; `failing`: every request answers 503; `silent`: requests are accepted and never answered. */
  mode: 'up' | 'failing' | 'silent';
  /** The ID token the next token request gets. */
  idToken: string;
  /** What the discovery document names as end_session_endpoint. */
  endSessionEndpoint: string;
  /** What the userinfo endpoint answers. */
  userInfo: Record<string, unknown>;
  /** Discovery documents served so far. */
  discoveries: number;
  /** Signs `claims` with the published key, or with `key`. */
  sign(claims: Record<string, unknown>, key?: CryptoKey): Promise<string>;
  /** A key the provider does not publish. */
  foreignKey: CryptoKey;
  close(): Promise<void>;
}

const PUBLISHED_KID = 'published-key';

export async function startForgingOidcServer(): Promise<ForgingOidcServer> {
  const published = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const app = express();
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const forging: ForgingOidcServer = {
    issuer,
    clientId: 'recharge',
    clientSecret: 'test-client-secret-for-the-forging-provider',
    mode: 'up',
    idToken: '',
    endSessionEndpoint: `${issuer}/logout`,
    userInfo: {},
    discoveries: 0,
    sign: (claims, key = published.privateKey) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: PUBLISHED_KID }).sign(key),
    foreignKey: foreign.privateKey,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  app.use((_request, response, next) => {
    if (forging.mode === 'failing') response.status(503).end();
    else if (forging.mode === 'up') next();
  });
  app.get('/.well-known/openid-configuration', (_request, response) => {
    forging.discoveries += 1;
    response.json({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
      end_session_endpoint: forging.endSessionEndpoint,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256', 'none'],
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
      code_challenge_methods_supported: ['S256'],
    });
  });
  app.get('/jwks', async (_request, response) => {
    response.json({ keys: [{ ...(await exportJWK(published.publicKey)), kid: PUBLISHED_KID, use: 'sig', alg: 'RS256' }] });
  });
  app.post('/token', (_request, response) => {
    response.json({ access_token: 'forged-access-token', token_type: 'Bearer', expires_in: 300, id_token: forging.idToken });
  });
  app.get('/userinfo', (_request, response) => {
    response.json(forging.userInfo);
  });
  return forging;
}

/** An unsigned JWT: `alg: none` and an empty signature (RFC 7519 §6). */
export const unsignedJwt = (claims: Record<string, unknown>) => new UnsecuredJWT(claims).encode();
