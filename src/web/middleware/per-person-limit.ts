import type { Request, RequestHandler } from 'express';
import type { Clock } from '../../domain/time/clock.js';
import { HttpError } from '../http-error.js';

interface PerPersonLimitOptions {
  /** Requests allowed in a window. */
  limit: number;
  windowMs: number;
  clock: Clock;
  /** People counted at once; past it, finished windows are forgotten first, then the oldest. */
  maxPeople?: number;
  /** Whom a request counts for: the signed-in person by default; a visitor's address where nobody is signed in yet. */
  keyOf?: (request: Request) => string | number;
}

const DEFAULT_MAX_PEOPLE = 10_000;

/**
 * At most `limit` requests per signed-in person in a window that opens with their first request;
 * past it, 429 with Retry-After (the seconds left in the window) and the error page in their
 * language. Counted in this process's memory, bounded by `maxPeople`: with several instances a
 * person may reach each one's limit. Goes after `requireUser`.
 */
export function perPersonLimit({ limit, windowMs, clock, maxPeople = DEFAULT_MAX_PEOPLE, keyOf = (request) => request.user!.id }: PerPersonLimitOptions): RequestHandler {
  const windows = new Map<string | number, { openedAt: number; count: number }>();

  function windowOf(userId: string | number, now: number) {
    const current = windows.get(userId);
    if (current && now - current.openedAt < windowMs) return current;
    windows.delete(userId);
    if (windows.size >= maxPeople) {
      for (const [id, window] of windows) if (now - window.openedAt >= windowMs) windows.delete(id);
    }
    if (windows.size >= maxPeople) windows.delete(windows.keys().next().value!);
    const opened = { openedAt: now, count: 0 };
    windows.set(userId, opened);
    return opened;
  }

  return (request, response, next) => {
    const now = clock.now().getTime();
    const window = windowOf(keyOf(request), now);
    if (window.count >= limit) {
      response.setHeader('Retry-After', String(Math.max(1, Math.ceil((window.openedAt + windowMs - now) / 1000))));
      return next(new HttpError(429, 'tooManyRequests'));
    }
    window.count += 1;
    next();
  };
}
