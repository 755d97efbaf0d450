/** How a CUPS user name becomes a Recharge username, applied in the configuration's order. */
export const USERNAME_RULES = ['strip-domain', 'lower-case'] as const;
export type UsernameRule = (typeof USERNAME_RULES)[number];

const apply: Record<UsernameRule, (name: string) => string> = {
  // `alice@example.org` (Kerberos, e-mail) and `EXAMPLE\alice` (Windows clients) both name alice.
  'strip-domain': (name) => name.replace(/^.*\\/, '').replace(/@.*$/, ''),
  'lower-case': (name) => name.toLowerCase(),
};

export const mapUsername = (cupsUser: string, rules: readonly UsernameRule[]) => rules.reduce((name, rule) => apply[rule](name), cupsUser);
