import { z } from 'zod';
import { ROLES } from '../people/users.js';
import { SUPPORTED_LOCALES } from '../shared/locale.js';
import { DEFAULT_MFA_ACR, DEFAULT_MFA_AMR, DEFAULT_MFA_CONTEXTS } from './provider-mfa.js';

/**
 * One identity provider as configured (config `identity.providers`, or the IDENTITY_PROVIDERS
 * environment variable holding the same JSON array). Secrets never sit in the JSON: each provider's
 * one secret (OIDC client secret, LDAP service account password, SAML SP private key) comes from
 * IDENTITY_<ID>_SECRET (`secretVariable`).
 */
export const PROVIDER_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;

const url = (protocols: RegExp, what: string) => z.url({ protocol: protocols, error: `must be ${what}` }).transform((value) => value.replace(/\/+$/, ''));
const httpUrl = url(/^https?$/, 'an http:// or https:// URL');

/** A name for the login page's button, one per language, or one for both. */
const label = z.union([z.string().min(1).max(80), z.object(Object.fromEntries(SUPPORTED_LOCALES.map((locale) => [locale, z.string().min(1).max(80)])) as Record<(typeof SUPPORTED_LOCALES)[number], z.ZodString>)]);

/**
 * Which attribute carries what (names as the provider sends them). Defaults depend on the protocol
 * (DEFAULT_MAPPINGS); `locale` and `groups` may be absent.
 */
const mapping = z
  .object({
    username: z.string().min(1),
    displayName: z.string().min(1),
    email: z.string().min(1),
    locale: z.string().min(1),
    groups: z.string().min(1),
  })
  .partial();

/**
 * `attribute` holding exactly `value` grants `role`; the first matching rule wins. `ignoreCase` for
 * values a directory may write in any case (LDAP DNs): a group name differing only in case is
 * otherwise another group.
 */
const roleRule = z.object({ attribute: z.string().min(1), value: z.string().min(1), role: z.enum(ROLES), ignoreCase: z.boolean().default(false) });

const common = {
  id: z.string().regex(PROVIDER_ID, 'must be lowercase letters, digits and dashes (it is part of URLs)'),
  label,
  mapping: mapping.default({}),
  roleRules: z.array(roleRule).default([]),
  /** The role of a person no rule matches; `null` refuses them (e.g. only staff may sign in). */
  defaultRole: z.enum(ROLES).nullable().default('user'),
  /** Name and e-mail come from the provider at every sign-in (the account page does not let the person change them). */
  ownsProfile: z.boolean().default(true),
  timeoutMs: z.number().int().min(500).max(60_000).default(10_000),
  /** Filled from IDENTITY_<ID>_SECRET by config.ts; refused in JSON files. */
  secret: z.string().min(1).optional(),
};

const oidc = z.object({
  ...common,
  kind: z.literal('oidc'),
  /** Exactly as the provider names itself (`iss`): a trailing slash is kept (Entra ID v1 has one). */
  issuer: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  clientId: z.string().min(1),
  scopes: z.string().default('openid profile email'),
  /** Ends the provider's session too at logout, when its discovery names an end_session_endpoint. */
  endSession: z.boolean().default(true),
  /** An admin or IT person whose ID token says MFA (provider-mfa.ts) is not asked for a portal factor. */
  trustProviderMfa: z.boolean().default(true),
  /** `amr` values that prove MFA alone; `amr` naming two factor categories (pwd + otp) proves it too. */
  mfaAmr: z.array(z.string().min(1)).default([...DEFAULT_MFA_AMR]),
  /** `acr` values that mean MFA at this provider. */
  mfaAcr: z.array(z.string().min(1)).default([...DEFAULT_MFA_ACR]),
});

const saml = z.object({
  ...common,
  kind: z.literal('saml'),
  /** The IdP's single sign-on URL (HTTP-Redirect binding). */
  entryPoint: httpUrl,
  /** The IdP's entityID: responses from another issuer are refused. */
  idpIssuer: z.string().min(1),
  /** The IdP's signing certificates (PEM or base64 DER); several during a rollover. */
  idpCertificates: z.array(z.string().min(1)).min(1),
  /** The IdP's metadata URL, read by the health check only (certificate expiry). */
  metadataUrl: httpUrl.optional(),
  /** The attribute giving the stable identifier; by default pairwise-id, then eduPersonPrincipalName, then a persistent NameID. */
  subjectAttribute: z.string().min(1).optional(),
  /** Our public certificate (PEM) matching IDENTITY_<ID>_SECRET: authentication requests are then signed. */
  spCertificate: z.string().min(1).optional(),
  clockSkewSeconds: z.number().int().min(0).max(600).default(60),
  /** An admin or IT person whose assertion's AuthnContextClassRef is one of `mfaContexts` is not asked for a portal factor. */
  trustProviderMfa: z.boolean().default(true),
  mfaContexts: z.array(z.string().min(1)).default([...DEFAULT_MFA_CONTEXTS]),
});

const cas = z.object({
  ...common,
  kind: z.literal('cas'),
  /** The CAS server's base URL, e.g. https://cas.example.edu/cas. */
  serverUrl: httpUrl,
  /** 3: /p3/serviceValidate (attributes in the answer); 2: /serviceValidate. */
  version: z.union([z.literal(2), z.literal(3)]).default(3),
});

const ldap = z.object({
  ...common,
  kind: z.literal('ldap'),
  url: url(/^ldaps?$/, 'an ldap:// or ldaps:// URL'),
  /** Upgrade an ldap:// connection with StartTLS before any bind. */
  startTls: z.boolean().default(false),
  /** A PEM file of the CA that signed the directory's certificate (otherwise the system's). */
  caFile: z.string().min(1).optional(),
  /** The service account that searches for the person's entry (its password is the provider's secret). */
  bindDn: z.string().min(1),
  searchBase: z.string().min(1),
  /** `{username}` is replaced by the typed username, escaped (RFC 4515). */
  userFilter: z.string().includes('{username}', { error: 'must contain {username}' }).default('(&(objectClass=inetOrgPerson)(uid={username}))'),
  /** The stable identifier: entryUUID (OpenLDAP) or objectGUID (Active Directory). */
  subjectAttribute: z.string().min(1).default('entryUUID'),
});

export const providerConfigSchema = z.discriminatedUnion('kind', [oidc, saml, cas, ldap]);
export type ProviderConfig = z.output<typeof providerConfigSchema>;
export type OidcProviderConfig = z.output<typeof oidc>;
export type SamlProviderConfig = z.output<typeof saml>;
export type CasProviderConfig = z.output<typeof cas>;
export type LdapProviderConfig = z.output<typeof ldap>;
export type ProviderKind = ProviderConfig['kind'];

/** The environment variable holding a provider's one secret. */
export const secretVariable = (id: string) => `IDENTITY_${id.toUpperCase().replace(/-/g, '_')}_SECRET`;

/** Kinds that cannot work without their secret. */
export const SECRET_REQUIRED: ReadonlySet<ProviderKind> = new Set(['oidc', 'ldap']);

/** What each protocol usually calls things; a provider's `mapping` overrides any of them. */
export const DEFAULT_MAPPINGS: Record<ProviderKind, Required<z.output<typeof mapping>>> = {
  oidc: { username: 'preferred_username', displayName: 'name', email: 'email', locale: 'locale', groups: 'groups' },
  saml: {
    username: 'urn:oid:1.3.6.1.4.1.5923.1.1.1.6',
    displayName: 'urn:oid:2.16.840.1.113730.3.1.241',
    email: 'urn:oid:0.9.2342.19200300.100.1.3',
    locale: 'urn:oid:2.16.840.1.113730.3.1.39',
    groups: 'urn:oid:1.3.6.1.4.1.5923.1.1.1.1',
  },
  cas: { username: 'user', displayName: 'displayName', email: 'mail', locale: 'preferredLanguage', groups: 'eduPersonAffiliation' },
  ldap: { username: 'uid', displayName: 'displayName', email: 'mail', locale: 'preferredLanguage', groups: 'memberOf' },
};
