import { readFile as readFileFromDisk } from 'node:fs/promises';
import { InvalidCredentialsError } from 'ldapts';
import { refused, unavailable, type ProviderFailure, type ProviderHealth, type VerifiedIdentity } from '../../domain/identity/identity.js';
import { secretVariable, type LdapProviderConfig } from '../../domain/identity/provider-config.js';
import type { PasswordIdentityProvider } from '../provider.js';
import { describeFailure, withDirectory } from './directory-session.js';
import { BINARY_ATTRIBUTES, readAttributes, requestedAttributes, userFilter } from './entry-attributes.js';

export interface LdapProviderOptions {
  /** Reads `caFile` (once, at the first connection that needs it). */
  readFile?: (path: string) => Promise<string | Buffer>;
  /** The time of a health check (`checkedAt`). */
  now?: () => Date;
}

/**
 * Password sign-in against an LDAP directory or Active Directory: the service account (`bindDn`,
 * whose password is the provider's secret) finds the person's one entry with `userFilter`, then a
 * second connection binds as that entry with the typed password.
 *
 * Active Directory: `userFilter` `(&(objectClass=user)(sAMAccountName={username}))`,
 * `subjectAttribute` `objectGUID` (sent as bytes, given as AD prints it), mapping `username` to
 * `sAMAccountName`. The typed username is not rewritten: `EXAMPLE\jdupont` or `jdupont@example.org`
 * find nobody with that filter; to let people type `user@suffix`, filter on `userPrincipalName={username}` instead.
 */
export function createLdapProvider(config: LdapProviderConfig, options: LdapProviderOptions = {}): PasswordIdentityProvider {
  const readFile = options.readFile ?? ((path: string) => readFileFromDisk(path));
  const now = options.now ?? (() => new Date());
  const attributes = requestedAttributes(config);
  const serviceSecret = config.secret;
  const noSecret = `no service account password: ${secretVariable(config.id)} is not set`;

  let ca: Promise<string | Buffer | undefined> | undefined;
  const readCa = () => {
    if (!config.caFile) return Promise.resolve(undefined);
    const caFile = config.caFile;
    // A failed read is tried again at the next sign-in: the file may have been fixed meanwhile.
    ca ??= readFile(caFile).catch((error: unknown) => {
      ca = undefined;
      throw new Error(`cannot read caFile ${caFile}: ${describeFailure(error)}`);
    });
    return ca;
  };

  return {
    id: config.id,
    kind: 'ldap',

    async verify(username, password): Promise<VerifiedIdentity | ProviderFailure> {
      // Checked before any connection: a DN with an empty password is an unauthenticated bind
      // (RFC 4513 §5.1.2), which slapd refuses but Active Directory answers with success.
      if (password === '') return refused('empty password (never sent: it would be an unauthenticated bind)');
      if (username.trim() === '') return refused('empty username');
      // Never an anonymous search instead.
      if (!serviceSecret) return unavailable(noSecret);
      try {
        return await withDirectory(config, await readCa(), async (directory) => {
          const service = await directory.open();
          await directory.bindServiceAccount(service, serviceSecret);
          const { searchEntries } = await service.search(config.searchBase, {
            scope: 'sub',
            filter: userFilter(config.userFilter, username),
            // Two are enough to know that the username is ambiguous.
            sizeLimit: 2,
            attributes,
            explicitBufferAttributes: BINARY_ATTRIBUTES,
          });
          const [entry, another] = searchEntries;
          if (!entry) return refused('no entry matches the username');
          if (another) return refused('several entries match the username');

          // A connection of its own: the service account's stays the service account's.
          const person = await directory.open();
          try {
            await person.bind(entry.dn, password);
          } catch (error) {
            // Active Directory's message carries why (data 52e: wrong password, 533: disabled, 775: locked…).
            if (error instanceof InvalidCredentialsError) return refused(`wrong password for ${entry.dn} (${describeFailure(error)})`);
            throw error;
          }
          const found = readAttributes(entry, attributes);
          const [subject, ...others] = found[config.subjectAttribute] ?? [];
          // The directory's or the configuration's fault, not the person's: never a sign-in without a stable identifier.
          if (subject === undefined || others.length > 0) return unavailable(`${entry.dn} has no single ${config.subjectAttribute} (subjectAttribute)`);
          return { ok: true, subject, attributes: found };
        });
      } catch (error) {
        return unavailable(describeFailure(error));
      }
    },

    async health(): Promise<ProviderHealth> {
      if (!serviceSecret) return { reachable: false, detail: noSecret, checkedAt: now().toISOString() };
      const started = now();
      try {
        const certificate = await withDirectory(config, await readCa(), async (directory) => {
          const client = await directory.open();
          await directory.bindServiceAccount(client, serviceSecret);
          await client.search(config.searchBase, { scope: 'base', attributes: ['1.1'] });
          return directory.peerCertificate();
        });
        const certificates = certificate ? [{ subject: certificate.subject.replace(/\n/g, ', '), notAfter: new Date(certificate.validTo).toISOString() }] : undefined;
        const elapsed = now().getTime() - started.getTime();
        return { reachable: true, detail: `bound as ${config.bindDn} and read ${config.searchBase} in ${elapsed} ms`, certificates, checkedAt: now().toISOString() };
      } catch (error) {
        return { reachable: false, detail: describeFailure(error), checkedAt: now().toISOString() };
      }
    },
  };
}
