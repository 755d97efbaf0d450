import type { Request, Response } from 'express';
import { sealedBox } from '../domain/shared/sealed-box.js';

/**
 * Which quotes this browser may see and pay: those whose number and postcode it gave on "Recherche de
 * commande" (or, for a signed-in person, those made out to them). Kept in a sealed cookie, since a
 * customer without an account has no stored session: HttpOnly, SameSite=Lax (PayPal's return is a
 * top-level navigation, which carries it), valid two hours after the last look-up, a few quotes at most.
 */
export const QUOTE_ACCESS_HOURS = 2;
const MAX_QUOTES = 5;

export interface QuoteAccessCookie {
  name: string;
  options: { httpOnly: true; sameSite: 'lax'; secure: boolean; path: '/' };
}

export const quoteAccessCookie = (secureCookies: boolean): QuoteAccessCookie => ({
  name: secureCookies ? '__Host-recharge-quotes' : 'recharge.quotes',
  options: { httpOnly: true, sameSite: 'lax', secure: secureCookies, path: '/' },
});

export function quoteAccess(secret: string, cookie: QuoteAccessCookie, now: () => number) {
  const box = sealedBox(secret, 'quote-access');

  /** The quote ids this browser was granted, newest first (none when the cookie is missing, altered or expired). */
  function granted(request: Request): number[] {
    const opened = box.open((request.cookies as Record<string, unknown> | undefined)?.[cookie.name], now());
    if (!opened.ok || !Array.isArray(opened.value)) return [];
    return opened.value.filter((id): id is number => Number.isSafeInteger(id) && id > 0).slice(0, MAX_QUOTES);
  }

  return {
    granted,
    /** True when this browser may see the quote. */
    allows: (request: Request, quoteId: number) => granted(request).includes(quoteId),
    /** Grants the quote to this browser (after a right number and postcode), keeping the few latest. */
    grant(request: Request, response: Response, quoteId: number): void {
      const ids = [quoteId, ...granted(request).filter((id) => id !== quoteId)].slice(0, MAX_QUOTES);
      const maxAge = QUOTE_ACCESS_HOURS * 3600_000;
      response.cookie(cookie.name, box.seal(ids, now() + maxAge), { ...cookie.options, maxAge });
    },
  };
}

export type QuoteAccess = ReturnType<typeof quoteAccess>;
