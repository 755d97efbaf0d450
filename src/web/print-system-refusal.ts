import type { Request } from 'express';
import type { PrintSystem } from '../services/credit-transfers/print-system.js';
import type { Translate } from '../i18n/index.js';

/**
 * Why a top-up is refused before any money is asked for, in the person's language: the print system
 * credits go to says for sure that they have no account there, so their units could never reach it.
 * When it cannot tell (it does not answer), the top-up goes ahead: its transfer waits and retries.
 */
export async function printSystemRefusal(printSystem: PrintSystem | null, request: Request, t: Translate): Promise<string | null> {
  if (!printSystem?.balances.knowsPeople) return null;
  const user = request.user!;
  const exists = await printSystem.balances.personExists(user.username);
  if (exists === null) request.log.warn({ userId: user.id }, 'the print system could not say whether the person has an account there: the top-up goes ahead');
  return exists === false ? t('topup.errors.unknownInPrintSystem', { context: printSystem.balances.kind }) : null;
}
