import type { User } from '../people/users.js';

/** Who may draft and manage quotes: the reprography desk (a permission admins grant), and admins themselves. */
export function canUseQuoteDesk(user: Pick<User, 'role' | 'quoteDesk'> | undefined): boolean {
  return user !== undefined && (user.role === 'admin' || user.quoteDesk);
}
