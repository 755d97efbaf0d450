import type { CacheProvider } from '@node-saml/node-saml';
import type { SignInKeyStore } from '../provider.js';

/**
 * A failure of the key store itself (the database), told apart from a refused response: node-saml
 * rethrows whatever its cache throws, and an outage must not be logged as a hostile answer.
 */
export class SignInKeyStoreError extends Error {
  constructor(cause: unknown) {
    super('the sign-in key store failed', { cause });
  }
}

const requestKey = (requestId: string) => `request:${requestId}`;

/**
 * node-saml's request-id cache kept in the database (sign_in_keys), so whichever instance receives
 * the IdP's answer knows the request it answers. node-saml saves an id when it builds an AuthnRequest,
 * reads it back for the answer's InResponseTo and removes it once answered.
 */
export function requestIdCache(keys: SignInKeyStore, now: () => Date, lifetimeMs: number): CacheProvider {
  const guarded = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw new SignInKeyStoreError(error);
    }
  };
  return {
    saveAsync: (requestId, value) =>
      guarded(async () => {
        const createdAt = now().getTime();
        await keys.save(requestKey(requestId), value, new Date(createdAt + lifetimeMs));
        return { value, createdAt };
      }),
    getAsync: (requestId) => guarded(() => keys.get(requestKey(requestId))),
    removeAsync: (requestId) =>
      guarded(async () => {
        if (requestId == null) return null;
        await keys.remove(requestKey(requestId));
        return requestId;
      }),
  };
}
