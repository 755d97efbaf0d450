import { AuthorizationResponseError, ResponseBodyError } from 'openid-client';
import { refused, unavailable, type ProviderFailure } from '../../domain/identity/identity.js';
import { ProviderUnreachable } from './provider-fetch.js';

/** Errors a provider may put in the callback instead of a code when it, not the person, failed (RFC 6749 §4.1.2.1). */
const PROVIDER_TROUBLE = new Set(['server_error', 'temporarily_unavailable']);

/** Callback parameters and provider texts end up in the log: bounded, one line. */
const MAX_DETAIL = 300;

/**
 * What a failed sign-in means for the person: they stopped at the provider (`cancelled`), the provider
 * could not be reached in time (`unavailable`), or the answer failed a check (`refused`, the default:
 * anything not recognised as the provider's trouble is treated as hostile).
 */
export function failureOf(error: unknown): ProviderFailure {
  if (error instanceof AuthorizationResponseError) {
    const detail = `the provider answered ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`;
    if (error.error === 'access_denied') return { ok: false, reason: 'cancelled', detail: bounded(detail) };
    return PROVIDER_TROUBLE.has(error.error) ? unavailable(bounded(detail)) : refused(bounded(detail));
  }
  const unreachable = causes(error).find((cause) => cause instanceof ProviderUnreachable || isTimeout(cause));
  if (unreachable) return unavailable(bounded(unreachable.message));
  return refused(bounded(describeError(error)));
}

/** One line naming an error and its causes, e.g. "unexpected JWT claim value encountered: unexpected JWT "aud" (audience) claim value". */
export function describeError(error: unknown): string {
  const chain = causes(error);
  if (chain.length === 0) return String(error);
  return chain
    .map((cause) => (cause instanceof ResponseBodyError ? `${cause.error}${cause.error_description ? ` (${cause.error_description})` : ''}` : cause.message))
    .filter((message, index, all) => message !== '' && all.indexOf(message) === index)
    .join(': ');
}

function causes(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let current = error; current instanceof Error && chain.length < 5; current = current.cause) chain.push(current);
  return chain;
}

/** A timeout that struck while a response body was being read, after our fetch had returned. */
const isTimeout = (error: Error) => error.name === 'TimeoutError' || error.name === 'AbortError';

const bounded = (text: string) => text.replace(/[\r\n]+/g, ' ').slice(0, MAX_DETAIL);
