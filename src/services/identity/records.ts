/** The identity links as stored, for pages that only show them. */
export { listIdentityLinks, type IdentityLink } from '../../db/identity/identity-repository.js';
export { purgeExpiredSignInKeys } from '../../db/identity/sign-in-key-repository.js';
