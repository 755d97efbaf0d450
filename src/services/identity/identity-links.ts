import { recordAudit } from '../../db/audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { findIdentityLink, insertIdentityLink, listIdentityLinks, type IdentityLink } from '../../db/identity/identity-repository.js';
import { findUserById } from '../../db/people/user-repository.js';
import type { AuditActor } from '../../domain/audit/audit.js';
import { IdentityLinkError, validateSubject } from '../../domain/identity/identity-link.js';
import type { Clock } from '../../domain/time/clock.js';

export interface LinkIdentityRequest {
  userId: number;
  /** A configured provider's id: the caller checks it against the registry (unknown_provider). */
  providerId: string;
  /** As typed: trimmed and checked here. */
  subject: unknown;
  admin: AuditActor;
}

/**
 * Links an existing account to its identifier at a provider, once: the person's next sign-in there
 * opens this account instead of creating one. Refused, with nothing written, when the identifier
 * already belongs to someone or the person already has an identifier at this provider; otherwise
 * the link and its audit entry commit together.
 */
export async function linkIdentity({ db, clock }: { db: Database; clock: Clock }, request: LinkIdentityRequest): Promise<IdentityLink> {
  const subject = validateSubject(request.subject);
  const { userId, providerId, admin } = request;
  const now = clock.now();
  return db.transaction(async (trx) => {
    const person = await findUserById(trx, userId);
    if (!person) throw new IdentityLinkError('user_not_found', `user ${userId} does not exist`);
    const taken = await findIdentityLink(trx, providerId, subject);
    if (taken) {
      const owner = taken.userId === userId ? person : await findUserById(trx, taken.userId);
      throw new IdentityLinkError('subject_taken', `${providerId} identifier already linked to ${owner?.username ?? `user ${taken.userId}`}`, owner?.username);
    }
    const ownLinks = await listIdentityLinks(trx, [userId]);
    if (ownLinks.some((link) => link.providerId === providerId)) {
      throw new IdentityLinkError('provider_linked', `${person.username} already has an identifier at ${providerId}`);
    }
    // The unique keys settle a race with a first sign-in or another admin; on PostgreSQL the refused
    // insert aborts the transaction, so nothing more is written and the throw rolls it back.
    if (!(await insertIdentityLink(trx, { userId, providerId, subject, linkedBy: admin.username }, now))) {
      throw new IdentityLinkError('linked_meanwhile', `${providerId}: ${person.username} or the identifier was linked meanwhile`);
    }
    await recordAudit(trx, { actor: admin, action: 'person.link_identity', target: person.username, before: null, after: { provider: providerId, subject } }, now);
    return { userId, providerId, subject, linkedBy: admin.username, createdAt: now, lastSignInAt: null };
  });
}
