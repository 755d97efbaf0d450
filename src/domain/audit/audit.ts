import type { User } from '../people/users.js';

/**
 * Who made a change: the person signed in, or the command line (`id` null; a name no person can
 * have, such as `cli:root`, says who ran it).
 */
export interface AuditActor {
  id: number | null;
  username: string;
}

/** One administrative change: who, what, on what, and the state before and after. */
export interface AuditRecord {
  actor: Pick<User, 'id' | 'username'>;
  /** A dotted verb such as `prices.publish` or `person.credit`. */
  action: string;
  /** What was changed, e.g. a username or an order number. */
  target: string | null;
  before: unknown;
  after: unknown;
}

export interface AuditEntry extends Omit<AuditRecord, 'actor'> {
  id: number;
  actorUsername: string;
  createdAt: Date;
}
