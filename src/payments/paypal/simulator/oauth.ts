import { timingSafeEqual } from 'node:crypto';
import { newAccessToken, newAppId } from './ids.js';
import type { ApiResult } from './idempotency.js';

/** PayPal's access tokens last 9 hours. */
const TOKEN_LIFETIME_SECONDS = 32_400;
const SCOPE = 'https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund https://uri.paypal.com/services/checkout/one-click-with-merchant-issued-token';

const INVALID_CLIENT: ApiResult = { status: 401, body: { error: 'invalid_client', error_description: 'Client Authentication failed' } };

/** The client-credentials grant of POST /v1/oauth2/token, and the bearer tokens it issued. */
export class OAuthTokens {
  private readonly issued = new Map<string, number>();
  private readonly appId = newAppId();

  constructor(
    private readonly clientId: string,
    private readonly clientSecret: string,
    private readonly now: () => Date,
  ) {}

  /** `authorization` is the Basic header, `form` the url-encoded body. */
  exchange(authorization: string | undefined, form: string): ApiResult {
    const encoded = /^Basic\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    const decoded = encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '';
    const separator = decoded.indexOf(':');
    if (separator < 0 || !sameText(decoded.slice(0, separator), this.clientId) || !sameText(decoded.slice(separator + 1), this.clientSecret)) return INVALID_CLIENT;
    const grantType = new URLSearchParams(form).get('grant_type');
    if (grantType !== 'client_credentials') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: grantType ? 'unsupported grant_type' : 'Grant Type is NULL' } };
    }
    const token = newAccessToken();
    const issuedAt = this.now();
    this.issued.set(token, issuedAt.getTime() + TOKEN_LIFETIME_SECONDS * 1000);
    return {
      status: 200,
      body: { scope: SCOPE, access_token: token, token_type: 'Bearer', app_id: this.appId, expires_in: TOKEN_LIFETIME_SECONDS, nonce: `${issuedAt.toISOString()}${token.slice(-12)}` },
    };
  }

  /** True for a `Bearer …` header carrying a token issued here that has not expired. */
  accepts(authorization: string | undefined): boolean {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    const expiresAt = token ? this.issued.get(token) : undefined;
    return expiresAt !== undefined && this.now().getTime() < expiresAt;
  }
}

function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
