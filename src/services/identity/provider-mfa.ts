import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import type { AuthnContext } from '../../domain/identity/identity.js';
import { acceptedContext } from '../../domain/identity/provider-mfa.js';
import type { User } from '../../domain/people/users.js';

/**
 * Keeps in the audit that the portal took an institution's provider's word for an admin or IT
 * person's second factor (`second_factor.provider`): who, through which provider, and what the
 * provider said (amr/acr, or the SAML class), as the portal's own checks are kept (`second_factor.success`).
 */
export function recordProviderMfa(db: Database, person: Pick<User, 'id' | 'username'>, providerId: string, context: AuthnContext, now: Date): Promise<void> {
  return recordAudit(db.knex, { actor: person, action: 'second_factor.provider', target: person.username, before: null, after: { provider: providerId, ...acceptedContext(context) } }, now);
}
