/** How a CUPS user name becomes a Recharge username, applied in the configuration's order. */
export const USERNAME_RULES = ['strip-domain', 'lower-case'] as const;
export type UsernameRule = (typeof USERNAME_RULES)[number];

const apply: Record<UsernameRule, (name: string) => string> = {
  // `alice@example.org` (Kerberos, e-mail) and `EXAMPLE\alice` (Windows clients) both name alice.
  'strip-domain': (name) => name.replace(/^.*\\/, '').replace(/@.*$/, ''),
  'lower-case': (name) => name.toLowerCase(),
};

export const mapUsername = (cupsUser: string, rules: readonly UsernameRule[]) => rules.reduce((name, rule) => apply[rule](name), cupsUser);

/**
 * The portal's rule for a username once it normalized it (NFKC, trimmed, lower case); a copy, as the
 * backend is a separate program. Any other name names nobody, and some ("..", "") would even change
 * the request's path, so they are never sent.
 */
const PORTAL_USERNAME = /^[a-z0-9][a-z0-9._@+-]{0,99}$/;
export const isPortalUsername = (name: string) => PORTAL_USERNAME.test(name.normalize('NFKC').trim().toLowerCase());
