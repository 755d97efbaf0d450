import { isUniqueViolation, toDate, toSafeInteger, type Queryable } from '../database.js';

export interface IdentityLink {
  userId: number;
  providerId: string;
  subject: string;
  /** The admin who linked an existing account, or null when the person's first sign-in created the link. */
  linkedBy: string | null;
  createdAt: Date;
  lastSignInAt: Date | null;
}

const toLink = (row: Record<string, unknown>): IdentityLink => ({
  userId: toSafeInteger(row.user_id),
  providerId: String(row.provider_id),
  subject: String(row.subject),
  linkedBy: (row.linked_by as string | null) ?? null,
  createdAt: toDate(row.created_at),
  lastSignInAt: row.last_sign_in_at == null ? null : toDate(row.last_sign_in_at),
});

export async function findIdentityLink(db: Queryable, providerId: string, subject: string): Promise<IdentityLink | undefined> {
  const row = await db('user_identities').where({ provider_id: providerId, subject }).first();
  return row ? toLink(row) : undefined;
}

export async function listIdentityLinks(db: Queryable, userIds: readonly number[]): Promise<IdentityLink[]> {
  if (userIds.length === 0) return [];
  const rows = await db('user_identities').whereIn('user_id', [...userIds]).orderBy(['user_id', 'provider_id']);
  return rows.map(toLink);
}

/** False when the identifier is linked already, or the person already has an account at this provider. */
export async function insertIdentityLink(db: Queryable, link: Omit<IdentityLink, 'createdAt' | 'lastSignInAt'>, now: Date): Promise<boolean> {
  try {
    await db('user_identities').insert({
      user_id: link.userId,
      provider_id: link.providerId,
      subject: link.subject,
      linked_by: link.linkedBy,
      created_at: now.toISOString(),
      last_sign_in_at: null,
    });
    return true;
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

export async function recordIdentitySignIn(db: Queryable, providerId: string, subject: string, now: Date): Promise<void> {
  await db('user_identities').where({ provider_id: providerId, subject }).update({ last_sign_in_at: now.toISOString() });
}
