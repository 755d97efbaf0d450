import { z } from 'zod';
import { SUPPORTED_LOCALES, type Locale } from '../shared/locale.js';
import { DomainError } from '../shared/errors.js';

export const ROLES = ['user', 'admin', 'it'] as const;
export type Role = (typeof ROLES)[number];

export type UserLocale = Locale;

export interface User {
  id: number;
  username: string;
  displayName: string;
  email: string;
  role: Role;
  locale: UserLocale | null;
  disabled: boolean;
  /** May draft and manage quotes at the reprography desk (admins may anyway: domain/quotes/quote-desk.ts). */
  quoteDesk: boolean;
  /** Changes with the password, role or access: a session opened under another version has ended. */
  sessionVersion: number;
  createdAt: Date;
  /** Closed by the person (or an admin): disabled for good, kept for the ledger until anonymised. */
  closedAt: Date | null;
  /** Name, username and e-mail replaced: the ledger's entries lead to no one. */
  anonymisedAt: Date | null;
}

export type UserErrorCode = 'invalid_user' | 'invalid_password' | 'username_taken' | 'user_not_found' | 'own_access' | 'own_role';
export class UserError extends DomainError<UserErrorCode> {
  constructor(
    code: UserErrorCode,
    message: string,
    /** For invalid_user: the fields that broke a rule, so that a form or an import line can name them. */
    readonly fields: ReadonlyArray<keyof NewUser> = [],
  ) {
    super(code, message);
  }
}

/** ASVS 6.2: at least 8 characters, no composition rules, long passphrases allowed and never truncated. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

/**
 * Usernames are compared case-insensitively; campuses often use e-mail addresses as usernames.
 * Compatibility forms fold first (NFKC: full-width "ａｄｍｉｎ" is "admin"), as directories fold them:
 * otherwise a look-alike would be a username of its own to the login throttle and the same person to
 * LDAP or Active Directory.
 */
export function normalizeUsername(username: string): string {
  return username.normalize('NFKC').trim().toLowerCase();
}

/** What a username may be once normalized: nobody has any other, so anything else names nobody. */
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._@+-]{0,99}$/;

/** The usernames anonymised accounts take (`closed-<id>`): nobody else may have one, or anonymising would find it taken. */
export const RESERVED_USERNAME_PATTERN = /^closed-\d+$/;

export const isReservedUsername = (normalized: string) => RESERVED_USERNAME_PATTERN.test(normalized);

const newUserSchema = z.object({
  username: z
    .string()
    .transform(normalizeUsername)
    .pipe(
      z
        .string()
        .regex(USERNAME_PATTERN, 'letters, digits and . _ @ + - only, up to 100 characters')
        .refine((username) => !isReservedUsername(username), 'closed-<number> is kept for anonymised accounts'),
    ),
  displayName: z.string().trim().min(1, 'is required').max(200),
  email: z.email('is not a valid e-mail address').max(254),
  role: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }),
  locale: z.enum(SUPPORTED_LOCALES, { error: `must be one of ${SUPPORTED_LOCALES.join(', ')}` }).nullable().default(null),
});

export type NewUser = z.output<typeof newUserSchema>;

/** An invalid_user error naming each field that broke a rule. */
function invalidUser(error: z.ZodError): UserError {
  const problems = error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  const fields = [...new Set(error.issues.map((issue) => issue.path[0] as keyof NewUser))];
  return new UserError('invalid_user', problems.join('; '), fields);
}

export function validateNewUser(input: z.input<typeof newUserSchema>): NewUser {
  const result = newUserSchema.safeParse(input);
  if (result.success) return result.data;
  throw invalidUser(result.error);
}

/** What a person may change of themself ("Mon compte"): the name and e-mail printed on their receipts, by a new user's rules. */
const profileSchema = newUserSchema.pick({ displayName: true, email: true });

export type Profile = z.output<typeof profileSchema>;

export function validateProfile(input: { displayName: unknown; email: unknown }): Profile {
  const result = profileSchema.safeParse(input);
  if (result.success) return result.data;
  throw invalidUser(result.error);
}

export function validateRole(role: string): Role {
  if ((ROLES as readonly string[]).includes(role)) return role as Role;
  throw new UserError('invalid_user', `role must be one of ${ROLES.join(', ')}`);
}

export function validatePassword(password: string): string {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw new UserError('invalid_password', `password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`);
  }
  return password;
}

/**
 * Nobody locks the portal out by mistake: an admin cannot disable themself nor give up their own
 * admin role (another admin can).
 */
export function refuseSelfLockout(actor: { id: number | null }, person: Pick<User, 'id'>, change: { disabled?: boolean; role?: Role }): void {
  if (actor.id !== person.id) return;
  if (change.disabled === true) throw new UserError('own_access', 'admins cannot disable themselves');
  if (change.role !== undefined && change.role !== 'admin') throw new UserError('own_role', 'admins cannot remove their own admin role');
}
