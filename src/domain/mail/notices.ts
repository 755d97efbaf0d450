import type { Locale } from '../shared/locale.js';

/** What a notice says is written from these at each attempt; kept small and flat (JSON in the outbox). */
export type NoticeParams = Record<string, string | number | boolean | null>;

/**
 * A mail with no document: a low balance, a refund request's progress. `kind` names its writer
 * (dotted, its capability first: `low_balance.crossed`), `locale` the language it is written in.
 */
export interface Notice {
  kind: string;
  params: NoticeParams;
  locale: Locale;
}
