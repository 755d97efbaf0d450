import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { lockCurrentTerms, publishTerms, type TermsVersion } from '../../db/pricing/terms-repository.js';
import { SUPPORTED_LOCALES, type Locale } from '../../i18n/index.js';
import type { AuditRecord } from '../../domain/audit/audit.js';
import type { Clock } from '../../domain/time/clock.js';
import { DomainError } from '../../domain/shared/errors.js';

export type TermsBody = Record<Locale, string>;

/** Long enough for any terms of sale; short enough to read on a phone. */
export const MAX_TERMS_LENGTH = 20_000;

export const TERMS_PROBLEM_CODES = ['required', 'too_long', 'unchanged'] as const;
export type TermsProblemCode = (typeof TERMS_PROBLEM_CODES)[number];
export interface TermsProblem {
  /** The language whose text is at fault; null for the version as a whole. */
  locale: Locale | null;
  code: TermsProblemCode;
  params?: Record<string, number>;
}

export class TermsError extends DomainError<'invalid_terms' | 'stale_terms'> {
  constructor(
    code: 'invalid_terms' | 'stale_terms',
    message: string,
    readonly problems: TermsProblem[] = [],
  ) {
    super(code, message);
  }
}

/** Texts as stored: line ends as \n, no trailing blanks; browsers send \r\n. */
export function normalizeTermsBody(body: Record<Locale, unknown>): TermsBody {
  const text = (value: unknown) => (typeof value === 'string' ? value.replace(/\r\n?/g, '\n').replace(/[ \t]+$/gm, '').trim() : '');
  return { fr: text(body.fr), en: text(body.en) };
}

/** Every reason `body` cannot become the next version after `current`. */
export function termsProblems(body: TermsBody, current: TermsVersion | undefined): TermsProblem[] {
  const problems: TermsProblem[] = [];
  for (const locale of SUPPORTED_LOCALES) {
    if (body[locale] === '') problems.push({ locale, code: 'required' });
    else if (body[locale].length > MAX_TERMS_LENGTH) problems.push({ locale, code: 'too_long', params: { max: MAX_TERMS_LENGTH } });
  }
  if (current && SUPPORTED_LOCALES.every((locale) => current.body[locale] === body[locale])) problems.push({ locale: null, code: 'unchanged' });
  return problems;
}

type Actor = AuditRecord['actor'];

/**
 * Publishes the next version of the terms, audited in the same transaction. `baseVersion` is the
 * version the admin started from (0 when there was none): if another was published since, nothing is
 * published (`stale_terms`) — unless it is this very text, a second click, which answers that version.
 */
export function createTermsPublishing({ db, clock }: { db: Database; clock: Clock }) {
  async function publish(author: Actor, body: TermsBody, baseVersion: number): Promise<TermsVersion> {
    const now = clock.now();
    return db.transaction(async (trx) => {
      const current = await lockCurrentTerms(trx);
      if ((current?.version ?? 0) !== baseVersion) {
        if (current && SUPPORTED_LOCALES.every((locale) => current.body[locale] === body[locale])) return current;
        throw new TermsError('stale_terms', `version ${current?.version ?? 0} was published after version ${baseVersion}`);
      }
      const problems = termsProblems(body, current);
      if (problems.length > 0) throw new TermsError('invalid_terms', problems.map((problem) => `${problem.locale ?? 'terms'}: ${problem.code}`).join('; '), problems);
      const published = await publishTerms(trx, body, now);
      const snapshot = (terms: TermsVersion) => ({ version: terms.version, body: terms.body });
      await recordAudit(trx, { actor: author, action: 'terms.publish', target: `version ${published.version}`, before: current ? snapshot(current) : null, after: snapshot(published) }, now);
      return published;
    });
  }

  return { publish };
}
