import { expect } from 'chai';
import fc from 'fast-check';
import type { AuthnContext } from '../../src/domain/identity/identity.js';
import { providerConfigSchema, type ProviderConfig } from '../../src/domain/identity/provider-config.js';
import { AMR_FACTORS, DEFAULT_MFA_CONTEXTS, provesMfa, REFEDS_MFA } from '../../src/domain/identity/provider-mfa.js';
import { authnContextOf } from '../../src/identity/oidc/claims.js';

// Providers as an admin writes them: the schema fills in the defaults the rule is tested with.
const oidc = (extra: Record<string, unknown> = {}) =>
  providerConfigSchema.parse({ id: 'uni', kind: 'oidc', label: 'Uni', issuer: 'https://op.example', clientId: 'recharge', ...extra });
const saml = (extra: Record<string, unknown> = {}) =>
  providerConfigSchema.parse({ id: 'fed', kind: 'saml', label: 'Fed', entryPoint: 'https://idp.example/sso', idpIssuer: 'https://idp.example', idpCertificates: ['MIIC'], ...extra });
const cas = providerConfigSchema.parse({ id: 'ent', kind: 'cas', label: 'ENT', serverUrl: 'https://cas.example/cas' });
const ldap = providerConfigSchema.parse({ id: 'dir', kind: 'ldap', label: 'Dir', url: 'ldaps://ldap.example', bindDn: 'cn=svc', searchBase: 'dc=example' });

const RFC_8176 = ['face', 'fpt', 'geo', 'hwk', 'iris', 'kba', 'mca', 'mfa', 'otp', 'pin', 'pop', 'pwd', 'rba', 'retina', 'sc', 'sms', 'swk', 'tel', 'user', 'vbm', 'wia'];
const method = fc.oneof(fc.constantFrom(...RFC_8176), fc.string({ maxLength: 12 }));
const context: fc.Arbitrary<AuthnContext> = fc.record(
  { amr: fc.array(method, { maxLength: 6 }), acr: fc.oneof(fc.constant(REFEDS_MFA), fc.string()), classRef: fc.oneof(fc.constantFrom(...DEFAULT_MFA_CONTEXTS), fc.string()) },
  { requiredKeys: [] },
);
const anyProvider: fc.Arbitrary<ProviderConfig> = fc.constantFrom(oidc(), saml(), cas, ldap, oidc({ mfaAmr: ['otp'], mfaAcr: ['gold'] }), saml({ mfaContexts: ['x'] }));
const byCategory = (category: string) => Object.keys(AMR_FACTORS).filter((name) => AMR_FACTORS[name] === category);

describe("the provider's own MFA (issue 24)", () => {
  it('never counts when the provider said nothing, whatever its configuration', () => {
    fc.assert(
      fc.property(anyProvider, (provider) => {
        expect(provesMfa(provider, undefined) || provesMfa(provider, {}) || provesMfa(provider, { amr: [] })).to.equal(false);
      }),
    );
  });

  it('never counts for CAS and LDAP (no standard way to say it), nor for a provider configured not to be trusted', () => {
    fc.assert(
      fc.property(context, (said) => {
        for (const provider of [cas, ldap, oidc({ trustProviderMfa: false }), saml({ trustProviderMfa: false })]) expect(provesMfa(provider, said), provider.id).to.equal(false);
      }),
    );
  });

  it('OIDC by default: amr `mfa`, or two factor categories; one method alone, however strong, is one factor', () => {
    expect(provesMfa(oidc(), { amr: ['mfa'] })).to.equal(true);
    expect(provesMfa(oidc(), { amr: ['pwd', 'otp'] })).to.equal(true);
    expect(provesMfa(oidc(), { amr: ['hwk', 'pin'] })).to.equal(true);
    expect(provesMfa(oidc(), { amr: ['swk', 'fpt'] })).to.equal(true);
    for (const single of RFC_8176.filter((name) => name !== 'mfa')) expect(provesMfa(oidc(), { amr: [single] }), single).to.equal(false);
    // Two of one category, or a factor with what is no factor (presence, risk, place), stay single-factor.
    expect(provesMfa(oidc(), { amr: ['pwd', 'kba', 'pin'] })).to.equal(false);
    expect(provesMfa(oidc(), { amr: ['hwk', 'user'] })).to.equal(false);
    expect(provesMfa(oidc(), { amr: ['pwd', 'rba', 'geo', 'mca', 'wia'] })).to.equal(false);
  });

  it('OIDC: any two factors of different categories count, whatever else amr says and in any order', () => {
    const categories = ['knowledge', 'possession', 'inherence'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...categories), fc.constantFrom(...categories), fc.array(method, { maxLength: 4 }), fc.nat(), fc.nat(), (first, second, others, i, j) => {
        fc.pre(first !== second);
        const [a, b] = [byCategory(first), byCategory(second)];
        expect(provesMfa(oidc(), { amr: [...others, a[i % a.length]!, ...others, b[j % b.length]!] })).to.equal(true);
      }),
    );
  });

  it('OIDC: saying more never takes MFA away (monotonic in amr)', () => {
    fc.assert(fc.property(context, fc.array(method, { maxLength: 4 }), (said, more) => !provesMfa(oidc(), said) || provesMfa(oidc(), { ...said, amr: [...(said.amr ?? []), ...more] })));
  });

  it('OIDC acr: the REFEDS MFA profile by default, and the values the admin lists; another acr is no MFA', () => {
    expect(provesMfa(oidc(), { acr: REFEDS_MFA })).to.equal(true);
    expect(provesMfa(oidc(), { acr: 'urn:mace:incommon:iap:silver', amr: ['pwd'] })).to.equal(false);
    expect(provesMfa(oidc({ mfaAcr: ['gold'] }), { acr: 'gold' })).to.equal(true);
    expect(provesMfa(oidc({ mfaAcr: ['gold'] }), { acr: REFEDS_MFA })).to.equal(false);
    expect(provesMfa(oidc({ mfaAmr: [] }), { amr: ['mfa'] })).to.equal(false);
  });

  it('SAML: the class ref is one of mfaContexts, exactly; password classes and OIDC claims do not count', () => {
    for (const classRef of DEFAULT_MFA_CONTEXTS) expect(provesMfa(saml(), { classRef }), classRef).to.equal(true);
    for (const classRef of ['urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport', 'urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken', `${REFEDS_MFA}/`, 'https://refeds.org/profile/sfa']) {
      expect(provesMfa(saml(), { classRef }), classRef).to.equal(false);
    }
    expect(provesMfa(saml(), { amr: ['mfa'], acr: REFEDS_MFA })).to.equal(false);
    expect(provesMfa(saml({ mfaContexts: ['urn:example:mfa'] }), { classRef: 'urn:example:mfa' })).to.equal(true);
  });

  it("reads amr and acr from the ID token's claims only when they have the standard shape", () => {
    expect(authnContextOf({ sub: 's', amr: ['pwd', 'otp'], acr: REFEDS_MFA })).to.deep.equal({ amr: ['pwd', 'otp'], acr: REFEDS_MFA });
    expect(authnContextOf({ sub: 's', amr: 'mfa', acr: ['gold'] })).to.deep.equal({});
    expect(authnContextOf({ sub: 's', amr: ['mfa', 1] })).to.deep.equal({});
  });
});
