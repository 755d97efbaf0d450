/** What an operation produced, before the transport (and its faults) sends it. */
export interface ApiResult {
  status: number;
  body: unknown;
}

export type Recall = { kind: 'new' } | { kind: 'replay'; result: ApiResult } | { kind: 'in-progress' };

interface Entry {
  /** The first successful result; refusals are not kept, so a corrected retry with the same id can succeed. */
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

  remember(key: string, result: ApiResult): void {
    const entry = this.entries.get(key);
    if (entry && result.status >= 200 && result.status < 300) entry.result = result;
  }

  answered(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.answering = false;
    if (!entry.result) this.entries.delete(key);
  }
}
