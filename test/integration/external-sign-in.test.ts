import { expect } from 'chai';
import type { VerifiedIdentity } from '../../src/domain/identity/identity.js';
import { providerConfigSchema, type ProviderConfig } from '../../src/domain/identity/provider-config.js';
import { findAccountByUserId } from '../../src/db/ledger/ledger-repository.js';
import { findUserByUsername } from '../../src/db/people/user-repository.js';
import { createExternalSignIn, welcomeCreditKey, type ExternalSignIn } from '../../src/services/identity/external-sign-in.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../helpers/database.js';
import { FakeClock } from '../helpers/portal.js';

/** What a provider's gateway proved, as values: the rules under test start where the gateways end. */
const identity = (subject: string, attributes: Record<string, string[]>): VerifiedIdentity => ({ ok: true, subject, attributes });

const provider = (settings: Record<string, unknown>): ProviderConfig =>
  providerConfigSchema.parse({ id: 'ent', label: 'ENT', kind: 'cas', serverUrl: 'https://cas.example.edu/cas', ...settings });

describe(`accounts made from a provider's answer (${testDialect})`, () => {
  let database: TestDatabase;
  let signIn: ExternalSignIn;
  const camille = { user: ['camille'], mail: ['camille@example.edu'], displayName: ['Camille Martin'], eduPersonAffiliation: ['staff'] };

  beforeEach(async () => {
    database = await createTestDatabase();
    signIn = createExternalSignIn({ db: database.db, clock: new FakeClock(), welcomeCredit: 500 });
  });
  afterEach(() => database.cleanup());

  const balanceOf = async (userId: number) => (await findAccountByUserId(database.db.knex, userId))!.balance;
  const roleOf = async (username: string) => (await findUserByUsername(database.db.knex, username))?.role;

  it('lets the rules take the admin role away from a linked person even when the provider stopped sending their e-mail', async () => {
    const cas = provider({ roleRules: [{ attribute: 'groups', value: 'print-admins', role: 'admin' }] });
    expect(await signIn(cas, identity('camille', { ...camille, groups: ['print-admins'] }))).to.deep.include({ outcome: 'success' });
    expect(await roleOf('camille')).to.equal('admin');
    const offboarded = { user: ['camille'], groups: [] as string[] };
    expect(await signIn(cas, identity('camille', offboarded))).to.deep.include({ outcome: 'success' });
    expect(await roleOf('camille')).to.equal('user');
  });

  it('refuses a linked person the rules no longer admit when the provider admits nobody by default', async () => {
    const staffOnly = provider({ roleRules: [{ attribute: 'eduPersonAffiliation', value: 'staff', role: 'user' }], defaultRole: null });
    expect(await signIn(staffOnly, identity('camille', camille))).to.deep.include({ outcome: 'success' });
    const left = { user: ['camille'], eduPersonAffiliation: ['alum'] };
    expect(await signIn(staffOnly, identity('camille', left))).to.deep.equal({ outcome: 'refused', problem: 'no_role' });
  });

  it('refuses the people it already linked once a provider without rules admits nobody by default (a closed provider)', async () => {
    expect(await signIn(provider({}), identity('camille', camille))).to.deep.include({ outcome: 'success' });
    expect(await signIn(provider({ defaultRole: null }), identity('camille', camille))).to.deep.equal({ outcome: 'refused', problem: 'no_role' });
  });

  it('matches rule values exactly, unless the rule ignores case (directory DNs)', async () => {
    const exact = provider({ roleRules: [{ attribute: 'groups', value: '/print-admins', role: 'admin' }] });
    await signIn(exact, identity('camille', { ...camille, groups: ['/Print-Admins', '/other/print-admins', ' /print-admins'] }));
    expect(await roleOf('camille')).to.equal('user');
    const dn = provider({ id: 'ad', roleRules: [{ attribute: 'memberOf', value: 'CN=Print Admins,DC=example,DC=edu', role: 'admin', ignoreCase: true }] });
    await signIn(dn, identity('guid-1', { user: ['alex'], mail: ['alex@example.edu'], memberOf: ['cn=print admins,dc=example,dc=edu'] }));
    expect(await roleOf('alex')).to.equal('admin');
  });

  it('takes an OpenID provider e-mail as the username only when the provider says it is verified', async () => {
    const oidc = providerConfigSchema.parse({ id: 'op', label: 'OP', kind: 'oidc', issuer: 'https://op.example.edu', clientId: 'recharge', secret: 's' });
    const claims = { name: ['Camille'], email: ['camille@example.edu'] };
    expect(await signIn(oidc, identity('sub-1', claims))).to.deep.equal({ outcome: 'refused', problem: 'incomplete_profile' });
    expect(await signIn(oidc, identity('sub-1', { ...claims, email_verified: ['false'] }))).to.deep.equal({ outcome: 'refused', problem: 'incomplete_profile' });
    expect(await signIn(oidc, identity('sub-1', { ...claims, email_verified: ['true'] }))).to.deep.include({ outcome: 'success' });
    expect(await findUserByUsername(database.db.knex, 'camille@example.edu')).to.not.equal(undefined);
  });

  it('never gives a new account a username kept for anonymised accounts: the e-mail is taken instead', async () => {
    const cas = provider({});
    expect(await signIn(cas, identity('closed-guid', { user: ['Closed-42'], mail: ['noor@example.edu'] }))).to.deep.include({ outcome: 'success' });
    expect(await findUserByUsername(database.db.knex, 'closed-42')).to.equal(undefined);
    expect(await findUserByUsername(database.db.knex, 'noor@example.edu')).to.not.equal(undefined);
  });

  it('keeps control and formatting characters out of the name shown on receipts, and refuses them in an e-mail', async () => {
    const cas = provider({});
    await signIn(cas, identity('camille', { ...camille, displayName: ['Cam\u202eille\u0000 Martin\u200b'] }));
    expect((await findUserByUsername(database.db.knex, 'camille'))?.displayName).to.equal('Camille Martin');
    // Joiners stay: they spell some names (here a Persian one, with a zero-width non-joiner).
    await signIn(cas, identity('mehdi', { user: ['mehdi'], mail: ['mehdi@example.edu'], displayName: ['می\u200cخواهم'] }));
    expect((await findUserByUsername(database.db.knex, 'mehdi'))?.displayName).to.equal('می\u200cخواهم');
    expect(await signIn(cas, identity('alex', { user: ['alex'], mail: ['alex\u0000@example.edu'] }))).to.deep.equal({ outcome: 'refused', problem: 'incomplete_profile' });
  });

  it('creates one account and posts one welcome credit when the same person signs in twice at once', async () => {
    const cas = provider({});
    const results = await Promise.all([signIn(cas, identity('camille', camille)), signIn(cas, identity('camille', camille)), signIn(cas, identity('camille', camille))]);
    expect(results.map((result) => result.outcome)).to.deep.equal(['success', 'success', 'success']);
    const user = (await findUserByUsername(database.db.knex, 'camille'))!;
    expect(await balanceOf(user.id)).to.equal(500);
    const credits = await database.db.knex('ledger_transactions').where('idempotency_key', welcomeCreditKey(user.id)).count({ count: '*' });
    expect(Number(credits[0]?.count)).to.equal(1);
    const links = await database.db.knex('user_identities').count({ count: '*' });
    expect(Number(links[0]?.count)).to.equal(1);
  });
});
