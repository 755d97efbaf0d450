import { z } from 'zod';
import { hundredthsOf } from './pricing.js';

/**
 * What an answer means for the job:
 * - `ok`: done (2xx);
 * - `not-found`: 404 `account-not-found`, no such person;
 * - `refused`: a definitive no, with the problem's type (`insufficient-balance`, `reference-in-use`…):
 *   sending the same request again would be refused again;
 * - `unreachable`: the request may work later (no connection, timeout, 5xx, 429, 409
 *   `request-in-progress` while another run of the same debit holds its Idempotency-Key, or a 2xx to a
 *   debit that is not that debit: a maintenance page answered in the portal's place, nothing debited);
 * - `foreign`: an answer that is not the portal's word on this request (another 404, a proxy's or a
 *   captive portal's page): never a reason to cancel a job, nor to retry the same request forever.
 */
export type PortalAnswer<T> =
  | { outcome: 'ok'; value: T }
  | { outcome: 'not-found'; problemType: string | null }
  | { outcome: 'refused'; status: number; problemType: string | null; detail: string | null }
  | { outcome: 'unreachable'; reason: string }
  | { outcome: 'foreign'; reason: string };

const accountJson = z.object({
  username: z.string(),
  status: z.enum(['active', 'disabled']),
  balance: z.number(),
  allowNegative: z.boolean(),
});

const debitJson = z.object({
  reference: z.string(),
  units: z.number(),
  pages: z.number().nullable(),
  printer: z.string().nullable(),
  colour: z.boolean().nullable(),
  duplex: z.boolean().nullable(),
  account: z.object({ username: z.string() }),
});

/** A debit the portal has, as far as telling it from another job goes. */
export type PortalDebit = z.infer<typeof debitJson>;

export interface PortalAccount {
  username: string;
  disabled: boolean;
  /** Hundredths of a unit; negative when staff went below zero. */
  balance: number;
  allowNegative: boolean;
}

/** The body of `POST /accounts/{username}/debits`, as the spool keeps it (units with ≤2 decimals). */
export interface DebitRequest {
  category: 'print' | 'copy';
  units: number;
  pages: number;
  reference: string;
  printer: string;
  colour: boolean;
  duplex: boolean;
  afterPrinting: boolean;
}

export interface RefusalRequest {
  reference: string;
  category: 'print' | 'copy';
  units: number;
  reason: 'insufficient-balance' | 'account-disabled';
  pages: number;
  printer: string;
  colour: boolean;
  duplex: boolean;
  balance?: number;
}

export interface PortalClient {
  account(username: string): Promise<PortalAnswer<PortalAccount>>;
  debit(username: string, body: DebitRequest, idempotencyKey: string): Promise<PortalAnswer<PortalDebit>>;
  refusal(username: string, body: RefusalRequest): Promise<PortalAnswer<unknown>>;
  findDebit(username: string, reference: string): Promise<PortalAnswer<PortalDebit>>;
}

/** `…/problems/insufficient-balance` → `insufficient-balance`. */
const problemTypeOf = (body: unknown) => {
  const type = (body as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? (type.split('/').at(-1) ?? null) : null;
};

export function createPortalClient({ portalUrl, apiKey, timeoutMs }: { portalUrl: string; apiKey: string; timeoutMs: number }): PortalClient {
  async function call(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<PortalAnswer<unknown>> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${portalUrl}/api/v1${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${apiKey}`,
          Accept: 'application/json, application/problem+json',
          // Problems' details in English: they end up in CUPS's messages and logs.
          'Accept-Language': 'en',
          'User-Agent': 'recharge-cups-backend',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
      text = await response.text();
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (cause?.code ?? cause?.message ?? (error as Error).message);
      return { outcome: 'unreachable', reason };
    }
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // A proxy's HTML error page: the status says enough.
    }
    const problemType = problemTypeOf(json);
    const { status } = response;
    if (status >= 200 && status < 300) return { outcome: 'ok', value: json };
    if (status >= 500 || status === 429 || (status === 409 && problemType === 'request-in-progress')) return { outcome: 'unreachable', reason: `HTTP ${status}${problemType ? ` ${problemType}` : ''}` };
    if (status === 404) {
      // Any other 404 (a portalUrl missing a path prefix, a proxy, a debit not found) says nothing of the person: never cancel a job on it.
      return problemType === 'account-not-found' ? { outcome: 'not-found', problemType } : { outcome: 'foreign', reason: `HTTP 404${problemType ? ` ${problemType}` : ''} at ${portalUrl}${path}` };
    }
    const detail = (json as { detail?: unknown } | null)?.detail;
    return { outcome: 'refused', status, problemType, detail: typeof detail === 'string' ? detail : null };
  }

  const accountPath = (username: string) => `/accounts/${encodeURIComponent(username)}`;

  return {
    async account(username) {
      const answer = await call('GET', accountPath(username));
      if (answer.outcome !== 'ok') return answer;
      const parsed = accountJson.safeParse(answer.value);
      const balance = parsed.success ? hundredthsOf(Math.abs(parsed.data.balance)) : null;
      // Something between here and the portal answered (a captive portal, a proxy): not the portal's word.
      if (!parsed.success || balance === null) return { outcome: 'foreign', reason: 'the answer is not a Recharge account' };
      const { username: name, status, allowNegative } = parsed.data;
      return { outcome: 'ok', value: { username: name, disabled: status === 'disabled', balance: Math.sign(parsed.data.balance) * balance, allowNegative } };
    },
    async debit(username, body, idempotencyKey) {
      const answer = await call('POST', `${accountPath(username)}/debits`, body, { 'Idempotency-Key': idempotencyKey });
      if (answer.outcome !== 'ok') return answer;
      const parsed = debitJson.safeParse(answer.value);
      // Only the portal's debit of this job says it is in Recharge; anything else is to send again later.
      if (!parsed.success || parsed.data.reference !== body.reference) return { outcome: 'unreachable', reason: 'the answer is not this job\'s Recharge debit' };
      return { outcome: 'ok', value: parsed.data };
    },
    refusal: (username, body) => call('POST', `${accountPath(username)}/refusals`, body),
    async findDebit(username, reference) {
      const answer = await call('GET', `${accountPath(username)}/debits/${encodeURIComponent(reference)}`);
      if (answer.outcome !== 'ok') return answer;
      const parsed = debitJson.safeParse(answer.value);
      return parsed.success ? { outcome: 'ok', value: parsed.data } : { outcome: 'foreign', reason: 'the answer is not a Recharge debit' };
    },
  };
}
