import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import type { ProviderFailure, VerifiedIdentity } from '../../src/domain/identity/identity.js';
import { providerConfigSchema, type LdapProviderConfig } from '../../src/domain/identity/provider-config.js';
import { createLdapProvider, type LdapProviderOptions } from '../../src/identity/ldap/ldap-provider.js';
import { ACTIVE_DIRECTORY_GUID, GUESTS_BASE, PEOPLE, PEOPLE_BASE, PRINT_USERS_GROUP, SERVICE_ACCOUNT, STAFF_GROUP, startSlapd, SUFFIX, type TestDirectory } from '../helpers/identity/slapd.js';
import { startSilentDirectory, startStallingProxy, type StalledDirectory } from '../helpers/identity/stalled-directories.js';

/**
 * The LDAP / Active Directory gateway against Debian's slapd, started by the test in a folder of its
 * own (test/helpers/identity/slapd.ts; it fails, naming the package, when slapd is not installed).
 */
describe('LDAP / Active Directory password sign-in (slapd)', function () {
  this.timeout(30_000);
  let directory: TestDirectory;
  before(async () => {
    directory = await startSlapd();
  });
  after(async () => {
    await directory?.stop();
  });

  const ldapConfig = (fields: Record<string, unknown> = {}): LdapProviderConfig => {
    const config = providerConfigSchema.parse({ id: 'annuaire', kind: 'ldap', label: 'Annuaire', url: directory.ldapUrl, bindDn: SERVICE_ACCOUNT.dn, searchBase: PEOPLE_BASE, timeoutMs: 3000, secret: SERVICE_ACCOUNT.password, ...fields });
    if (config.kind !== 'ldap') throw new Error('not an LDAP configuration');
    return config;
  };
  const verify = (username: string, password: string, fields: Record<string, unknown> = {}, options?: LdapProviderOptions) => createLdapProvider(ldapConfig(fields), options).verify(username, password);
  const signedIn = (result: VerifiedIdentity | ProviderFailure): VerifiedIdentity => {
    if (!result.ok) throw new Error(`expected a sign-in, got ${result.reason}: ${result.detail}`);
    return result;
  };
  const failure = (result: VerifiedIdentity | ProviderFailure): ProviderFailure => {
    if (result.ok) throw new Error(`expected a failure, ${result.subject} signed in`);
    return result;
  };
  const timed = async <T>(work: () => Promise<T>) => {
    const started = performance.now();
    const result = await work();
    return { result, elapsed: performance.now() - started };
  };
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  describe('the person entry', () => {
    it('signs in with the right password: entryUUID as subject, the mapped attributes and the groups from memberOf', async () => {
      const alice = signedIn(await verify('adupont', PEOPLE.alice.password));
      expect(alice.subject).to.match(UUID);
      expect(alice.attributes).to.deep.equal({
        uid: ['adupont'],
        displayName: ['Alice Dupont'],
        mail: ['alice.dupont@example.org'],
        preferredLanguage: ['fr'],
        memberOf: [PRINT_USERS_GROUP, STAFF_GROUP],
        entryUUID: [alice.subject],
      });
      const bob = signedIn(await verify('bmartin', PEOPLE.bob.password));
      expect(bob.attributes).to.deep.include({ preferredLanguage: ['en'], memberOf: [PRINT_USERS_GROUP] });
      expect(bob.subject).to.match(UUID).and.not.equal(alice.subject);
      expect(signedIn(await verify('adupont', PEOPLE.alice.password)).subject).to.equal(alice.subject);
    });

    it('gives attributes under the names configured, whatever their case in the schema', async () => {
      const alice = signedIn(await verify('adupont', PEOPLE.alice.password, { mapping: { displayName: 'displayname', email: 'MAIL', groups: 'businessCategory' } }));
      expect(alice.attributes).to.deep.include({ displayname: ['Alice Dupont'], MAIL: ['alice.dupont@example.org'] });
      expect(alice.attributes).not.to.have.property('businessCategory');
    });

    it('refuses a wrong password', async () => {
      expect(failure(await verify('adupont', 'not-her-password')).reason).to.equal('refused');
      expect(failure(await verify('adupont', PEOPLE.bob.password)).reason).to.equal('refused');
    });

    it('refuses an unknown username', async () => {
      const unknown = failure(await verify('nobody', PEOPLE.alice.password));
      expect(unknown).to.include({ reason: 'refused' }).and.have.property('detail').that.matches(/no entry/);
    });

    it('refuses a username two entries answer to, even with their password', async () => {
      const ambiguous = failure(await verify('jmoreau', PEOPLE.homonym.password));
      expect(ambiguous).to.include({ reason: 'refused' }).and.have.property('detail').that.matches(/several entries/);
    });
  });

  describe('Active Directory', () => {
    const activeDirectory = { userFilter: '(&(objectClass=user)(sAMAccountName={username}))', subjectAttribute: 'objectGUID', searchBase: SUFFIX, mapping: { username: 'sAMAccountName' } };

    it('finds the person by sAMAccountName and gives objectGUID as Active Directory prints it', async () => {
      const eve = signedIn(await verify('elambert', PEOPLE.activeDirectory.password, activeDirectory));
      expect(eve.subject).to.equal(ACTIVE_DIRECTORY_GUID);
      expect(eve.attributes).to.deep.include({ sAMAccountName: ['elambert'], displayName: ['Eve Lambert'], memberOf: [STAFF_GROUP] });
    });

    it('does not rewrite DOMAIN\\name or name@suffix: the configured filter decides', async () => {
      for (const typed of ['EXAMPLE\\elambert', 'elambert@example.org']) {
        expect(failure(await verify(typed, PEOPLE.activeDirectory.password, activeDirectory)), typed).to.include({ reason: 'refused' });
      }
    });
  });

  describe('filter injection in the username', () => {
    // The guest is alone under GUESTS_BASE: unescaped, `*` would find that one entry and sign in as it.
    for (const typed of ['*', '*)(uid=*']) {
      it(`matches ${typed} literally, never as a wildcard`, async () => {
        const injected = failure(await verify(typed, PEOPLE.guest.password, { searchBase: GUESTS_BASE }));
        expect(injected).to.include({ reason: 'refused' }).and.have.property('detail').that.matches(/no entry/);
        signedIn(await verify('gpetit', PEOPLE.guest.password, { searchBase: GUESTS_BASE }));
      });
    }

    it('keeps a group restriction of the filter: admin)(|(uid=* does not let a non-member in', async () => {
      // Unescaped, the filter would read (&(uid=admin)(|(uid=*)(memberOf=…))): the restriction gone.
      const printUsersOnly = { userFilter: `(&(uid={username})(memberOf=${PRINT_USERS_GROUP}))` };
      signedIn(await verify('bmartin', PEOPLE.bob.password, printUsersOnly));
      expect(failure(await verify('admin', PEOPLE.admin.password, printUsersOnly)).reason).to.equal('refused');
      const injected = failure(await verify('admin)(|(uid=*', PEOPLE.admin.password, printUsersOnly));
      expect(injected).to.include({ reason: 'refused' }).and.have.property('detail').that.matches(/no entry/);
    });

    it('finds nothing for filter syntax or replacement patterns typed as a username', async () => {
      for (const typed of ['adupont)', '\\61dupont', 'adupont\u0000', '$&', '$`adupont']) {
        expect(failure(await verify(typed, PEOPLE.alice.password)), JSON.stringify(typed)).to.include({ reason: 'refused' });
      }
    });
  });

  describe('checks made before any connection', () => {
    let silent: StalledDirectory;
    beforeEach(async () => {
      silent = await startSilentDirectory();
    });
    afterEach(async () => {
      await silent.close();
    });

    // slapd answers an empty password with "unwilling to perform"; Active Directory with success (an
    // unauthenticated bind). A directory that never answers shows that nothing was sent: any
    // connection would end unavailable after the timeout, not refused at once.
    it('refuses an empty password without connecting', async () => {
      const { result, elapsed } = await timed(() => verify('adupont', '', { url: silent.url, timeoutMs: 5000 }));
      expect(failure(result).reason).to.equal('refused');
      expect(elapsed).to.be.below(200);
      expect(silent.connections).to.equal(0);
    });

    it('refuses an empty username without connecting', async () => {
      for (const typed of ['', '   ']) {
        expect(failure(await verify(typed, PEOPLE.alice.password, { url: silent.url, timeoutMs: 5000 })).reason).to.equal('refused');
      }
      expect(silent.connections).to.equal(0);
    });

    it('without the service account password, never searches anonymously', async () => {
      const result = failure(await verify('adupont', PEOPLE.alice.password, { url: silent.url, secret: undefined }));
      expect(result).to.include({ reason: 'unavailable' }).and.have.property('detail').that.matches(/IDENTITY_ANNUAIRE_SECRET/);
      expect(silent.connections).to.equal(0);
    });
  });

  describe('a directory that does not answer', () => {
    it('is unavailable after the timeout when it accepts the connection and never answers', async () => {
      const silent = await startSilentDirectory();
      try {
        const { result, elapsed } = await timed(() => verify('adupont', PEOPLE.alice.password, { url: silent.url, timeoutMs: 600 }));
        expect(failure(result)).to.include({ reason: 'unavailable' }).and.have.property('detail').that.matches(/600 ms|timed out/i);
        expect(elapsed).to.be.within(550, 1500);
        expect(silent.connections).to.equal(1);
      } finally {
        await silent.close();
      }
    });

    it('is unavailable at once when nothing listens', async () => {
      const silent = await startSilentDirectory();
      const { url } = silent;
      await silent.close();
      const { result, elapsed } = await timed(() => verify('adupont', PEOPLE.alice.password, { url, timeoutMs: 5000 }));
      expect(failure(result)).to.include({ reason: 'unavailable' }).and.have.property('detail').that.matches(/ECONNREFUSED/);
      expect(elapsed).to.be.below(1000);
    });

    it('is unavailable after the timeout when the TLS handshake after StartTLS never ends', async () => {
      const proxy = await startStallingProxy(new URL(directory.ldapUrl));
      try {
        const { result, elapsed } = await timed(() => verify('adupont', PEOPLE.alice.password, { url: proxy.url, startTls: true, caFile: directory.caFile, timeoutMs: 800 }));
        expect(failure(result)).to.include({ reason: 'unavailable' }).and.have.property('detail').that.matches(/800 ms/);
        expect(elapsed).to.be.within(750, 1700);
      } finally {
        await proxy.close();
      }
    });

    it('is unavailable, naming the service account, when the directory refuses its password', async () => {
      const result = failure(await verify('adupont', PEOPLE.alice.password, { secret: 'not-the-reader-secret' }));
      expect(result).to.include({ reason: 'unavailable' }).and.have.property('detail').that.matches(/refused the service account cn=portal-reader/);
    });
  });

  describe('TLS', () => {
    it('signs in over LDAPS with the directory CA, and not with another CA', async () => {
      signedIn(await verify('adupont', PEOPLE.alice.password, { url: directory.ldapsUrl, caFile: directory.caFile }));
      const foreign = failure(await verify('adupont', PEOPLE.alice.password, { url: directory.ldapsUrl, caFile: directory.foreignCaFile }));
      expect(foreign).to.include({ reason: 'unavailable' }).and.have.property('detail').that.matches(/certificate/i);
    });

    it('signs in over StartTLS with the directory CA, and not with another CA', async () => {
      signedIn(await verify('adupont', PEOPLE.alice.password, { startTls: true, caFile: directory.caFile }));
      const foreign = failure(await verify('adupont', PEOPLE.alice.password, { startTls: true, caFile: directory.foreignCaFile }));
      expect(foreign).to.include({ reason: 'unavailable' }).and.have.property('detail').that.matches(/certificate/i);
    });

    it('reads the CA file once', async () => {
      const reads: string[] = [];
      const provider = createLdapProvider(ldapConfig({ url: directory.ldapsUrl, caFile: directory.caFile }), { readFile: (path) => (reads.push(path), readFile(path)) });
      signedIn(await provider.verify('adupont', PEOPLE.alice.password));
      signedIn(await provider.verify('bmartin', PEOPLE.bob.password));
      expect(reads).to.deep.equal([directory.caFile]);
    });
  });

  describe('health', () => {
    const now = () => new Date('2026-12-07T09:00:00Z');

    it('binds, reads the search base and gives the LDAPS certificate expiry', async () => {
      const health = await createLdapProvider(ldapConfig({ url: directory.ldapsUrl, caFile: directory.caFile }), { now }).health();
      const certificate = new X509Certificate(await readFile(directory.caFile));
      expect(health).to.deep.include({ reachable: true, checkedAt: '2026-12-07T09:00:00.000Z' });
      expect(health.certificates).to.deep.equal([{ subject: 'CN=Test directory', notAfter: new Date(certificate.validTo).toISOString() }]);
    });

    it('gives the certificate expiry over StartTLS too, and none in clear', async () => {
      expect((await createLdapProvider(ldapConfig({ startTls: true, caFile: directory.caFile })).health()).certificates).to.have.length(1);
      const clear = await createLdapProvider(ldapConfig()).health();
      expect(clear).to.include({ reachable: true });
      expect(clear.certificates).to.equal(undefined);
    });

    it('is not reachable when the service account is refused, the base is missing or the directory does not answer', async () => {
      expect(await createLdapProvider(ldapConfig({ secret: 'wrong' })).health()).to.include({ reachable: false }).and.have.property('detail').that.matches(/service account/);
      expect(await createLdapProvider(ldapConfig({ searchBase: `ou=nowhere,${SUFFIX}` })).health()).to.include({ reachable: false }).and.have.property('detail').that.matches(/LDAP result 32/);
      const silent = await startSilentDirectory();
      try {
        const { result, elapsed } = await timed(() => createLdapProvider(ldapConfig({ url: silent.url, timeoutMs: 600 })).health());
        expect(result).to.include({ reachable: false });
        expect(elapsed).to.be.below(1500);
      } finally {
        await silent.close();
      }
    });
  });
});
