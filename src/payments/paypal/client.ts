import { GatewayError, type GatewayErrorKind } from '../gateway.js';

export interface PayPalClientOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  now?: () => number;
}

export interface PayPalResponse {
  status: number;
  body: unknown;
}

/** The issues PayPal names in a 422 that change what we do next; any other refusal is `rejected`. */
const ISSUE_KINDS: Record<string, GatewayErrorKind> = {
  ORDER_ALREADY_CAPTURED: 'already_captured',
  INSTRUMENT_DECLINED: 'instrument_declined',
  ORDER_NOT_APPROVED: 'not_approved',
};

/** A token is renewed this long before PayPal says it expires. */
const TOKEN_MARGIN_MS = 60_000;

/**
 * A small client for PayPal's REST API over Node's fetch: OAuth client-credentials token cached until
 * shortly before it expires (and renewed once on a 401), a timeout on every call, `PayPal-Request-Id`
 * when given, and PayPal's errors turned into GatewayError kinds. It never retries by itself: after
 * an unknown outcome the caller decides (usually: GET the order).
 */
export class PayPalClient {
  private token: { value: string; expiresAt: number } | null = null;
  private readonly now: () => number;

  constructor(private readonly options: PayPalClientOptions) {
    this.now = options.now ?? Date.now;
  }

  async request(method: 'GET' | 'POST', path: string, { body, requestId }: { body?: unknown; requestId?: string } = {}): Promise<PayPalResponse> {
    const send = async () => {
      const headers: Record<string, string> = {
        Authorization: `Bearer ${await this.accessToken()}`,
        Accept: 'application/json',
        Prefer: 'return=representation',
      };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      if (requestId) headers['PayPal-Request-Id'] = requestId;
      return this.fetchJson(method, path, { headers, body: body === undefined ? undefined : JSON.stringify(body) });
    };
    let response = await send();
    if (response.status === 401) {
      this.token = null;
      response = await send();
    }
    if (response.status >= 200 && response.status < 300) return response;
    throw toGatewayError(response, `${method} ${path}`);
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.expiresAt - TOKEN_MARGIN_MS > this.now()) return this.token.value;
    const credentials = Buffer.from(`${this.options.clientId}:${this.options.clientSecret}`).toString('base64');
    const response = await this.fetchJson('POST', '/v1/oauth2/token', {
      headers: { Authorization: `Basic ${credentials}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: 'grant_type=client_credentials',
    });
    const { access_token: value, expires_in: expiresIn } = (response.body ?? {}) as { access_token?: unknown; expires_in?: unknown };
    if (response.status !== 200 || typeof value !== 'string' || typeof expiresIn !== 'number') {
      throw new GatewayError(response.status >= 500 ? 'unknown_outcome' : 'rejected', `PayPal refused the API credentials (HTTP ${response.status})`, { status: response.status });
    }
    this.token = { value, expiresAt: this.now() + expiresIn * 1000 };
    return value;
  }

  /** One HTTP exchange; a timeout, a network failure, a 5xx or an unreadable 2xx is an unknown outcome. */
  private async fetchJson(method: string, path: string, init: { headers: Record<string, string>; body?: string }): Promise<PayPalResponse> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.options.baseUrl}${path}`, { method, ...init, signal: AbortSignal.timeout(this.options.timeoutMs) });
      text = await response.text();
    } catch (error) {
      throw new GatewayError('unknown_outcome', `${method} ${path}: ${(error as Error).name === 'TimeoutError' ? 'timed out' : (error as Error).message}`);
    }
    if (response.status >= 500) throw new GatewayError('unknown_outcome', `${method} ${path}: HTTP ${response.status}`, { status: response.status });
    try {
      return { status: response.status, body: text === '' ? null : JSON.parse(text) };
    } catch {
      if (response.ok) throw new GatewayError('unknown_outcome', `${method} ${path}: unreadable answer (HTTP ${response.status})`, { status: response.status });
      return { status: response.status, body: null };
    }
  }
}

function toGatewayError(response: PayPalResponse, what: string): GatewayError {
  const envelope = (response.body ?? {}) as { name?: string; message?: string; debug_id?: string; details?: Array<{ issue?: string }>; links?: Array<{ rel?: string; href?: string }> };
  const issue = envelope.details?.[0]?.issue ?? envelope.name;
  const kind: GatewayErrorKind = response.status === 404 ? 'not_found' : ((issue ? ISSUE_KINDS[issue] : undefined) ?? 'rejected');
  const approvalUrl = envelope.links?.find((link) => link.rel === 'redirect' || link.rel === 'payer-action')?.href;
  return new GatewayError(kind, `${what}: HTTP ${response.status} ${issue ?? ''} ${envelope.message ?? ''}`.trim(), {
    status: response.status,
    issue,
    debugId: envelope.debug_id,
    approvalUrl,
  });
}
