import type { CustomFetch } from 'openid-client';

/**
 * The provider did not answer usefully: no connection, no answer within the timeout, or a 5xx from it
 * or from a proxy in front of it. openid-client wraps whatever its fetch throws, so this class is how
 * a failure is later told apart from a refusal (failures.ts walks the causes).
 */
export class ProviderUnreachable extends Error {
  override readonly name = 'ProviderUnreachable';
}

/**
 * Every request openid-client makes to the provider (discovery, JWKS, token, userinfo) goes through
 * this fetch. The timeout itself is openid-client's `timeout` option, whose signal arrives in `init`.
 */
export const providerFetch: CustomFetch = async (url, init) => {
  let response: Response;
  try {
    response = await fetch(url, init as RequestInit);
  } catch (cause) {
    throw new ProviderUnreachable(`${new URL(url).origin} did not answer (${describeNetworkError(cause)})`, { cause });
  }
  if (response.status >= 500) {
    await response.body?.cancel();
    throw new ProviderUnreachable(`${url} answered HTTP ${response.status}`);
  }
  return response;
};

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.name === 'TimeoutError' ? 'timed out' : error.message}${cause}`;
}
