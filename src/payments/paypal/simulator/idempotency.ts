/** What an operation produced, before the transport (and its faults) sends it. */
export interface ApiResult {
  status: number;
  body: unknown;
}

export type Recall = { kind: 'new' } | { kind: 'replay'; result: ApiResult } | { kind: 'in-progress' };

interface Entry {
  /**
   * The first successful result, or a refusal kept for replay (see `remember`); other refusals are not
   * kept, so a corrected retry with the same id can succeed.
   */
  result: ApiResult | null;
  /** Until its answer has left, a request is in progress (a delayed answer keeps it so). */
  answering: boolean;
}

/**
 * PayPal-Request-Id memory, keyed by id and path. PayPal keeps ids for about 6 hours; a simulator
 * run never lasts that long, so they are kept for good.
 */
export class RequestIdMemory {
  private readonly entries = new Map<string, Entry>();

  begin(key: string): Recall {
    const entry = this.entries.get(key);
    if (entry?.answering) return { kind: 'in-progress' };
    if (entry?.result) {
      entry.answering = true;
      return { kind: 'replay', result: entry.result };
    }
    this.entries.set(key, { result: null, answering: true });
    return { kind: 'new' };
  }

  /**
   * Keeps a successful result, and with `keepRefusals` a 422 too (PayPal answers a repeated id with the
   * previous request's result, which may be a refusal) — except ORDER_NOT_APPROVED, a "not yet" that
   * the buyer's approval ends.
   */
  remember(key: string, result: ApiResult, { keepRefusals }: { keepRefusals: boolean }): void {
    const entry = this.entries.get(key);
    if (entry && ((result.status >= 200 && result.status < 300) || (keepRefusals && isLastingRefusal(result)))) entry.result = result;
  }

  answered(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.answering = false;
    if (!entry.result) this.entries.delete(key);
  }
}

function isLastingRefusal(result: ApiResult): boolean {
  const details = (result.body as { details?: Array<{ issue?: unknown }> } | null)?.details;
  return result.status === 422 && !details?.some((detail) => detail.issue === 'ORDER_NOT_APPROVED');
}
