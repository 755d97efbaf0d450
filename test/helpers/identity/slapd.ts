import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';
import { until } from '../waiting.js';
import { freePort } from '../free-port.js';

const run = promisify(execFile);

/**
 * A private OpenLDAP server (Debian's slapd) for the LDAP tests: its configuration and database in a
 * temporary folder, on free ports of 127.0.0.1, seeded with dc=example,dc=org. It listens in clear
 * (StartTLS offered) and on LDAPS, with a self-signed certificate made for 127.0.0.1. Works as root
 * or as any user; `stop()` ends slapd and removes the folder.
 */
export interface TestDirectory {
  /** ldap://127.0.0.1:<port>, StartTLS offered. */
  readonly ldapUrl: string;
  /** ldaps://127.0.0.1:<port>. */
  readonly ldapsUrl: string;
  /** The certificate slapd presents (self-signed, so also its CA), as a PEM file. */
  readonly caFile: string;
  /** Another self-signed certificate: a CA that did not sign the directory's certificate. */
  readonly foreignCaFile: string;
  stop(): Promise<void>;
}

export const SUFFIX = 'dc=example,dc=org';
export const PEOPLE_BASE = `ou=people,${SUFFIX}`;
/** An organisational unit holding one person only. */
export const GUESTS_BASE = `ou=guests,${SUFFIX}`;
export const PRINT_USERS_GROUP = `cn=print-users,ou=groups,${SUFFIX}`;
export const STAFF_GROUP = `cn=staff,ou=groups,${SUFFIX}`;

/** The account the portal searches with; it may read people's entries, nothing else may. */
export const SERVICE_ACCOUNT = { dn: `cn=portal-reader,ou=services,${SUFFIX}`, password: 'reader-secret-2026' };

export interface TestPerson {
  readonly dn: string;
  readonly password: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** Attributes whose values are bytes (written base64 in the LDIF). */
  readonly binaryAttributes?: Readonly<Record<string, Buffer>>;
  /** Groups whose `member` names this person (the memberOf overlay lists them on the entry). */
  readonly groups: readonly string[];
}

const person = (dn: string, password: string, attributes: Record<string, string>, groups: string[] = [], binaryAttributes?: Record<string, Buffer>): TestPerson => ({ dn, password, attributes, groups, binaryAttributes });

export const PEOPLE = {
  alice: person(`uid=adupont,${PEOPLE_BASE}`, 'Alice-mot-de-passe-1', { uid: 'adupont', cn: 'Alice Dupont', sn: 'Dupont', displayName: 'Alice Dupont', mail: 'alice.dupont@example.org', preferredLanguage: 'fr' }, [PRINT_USERS_GROUP, STAFF_GROUP]),
  bob: person(`uid=bmartin,${PEOPLE_BASE}`, 'Bob-password-2', { uid: 'bmartin', cn: 'Bob Martin', sn: 'Martin', displayName: 'Bob Martin', mail: 'bob.martin@example.org', preferredLanguage: 'en' }, [PRINT_USERS_GROUP]),
  /** The directory's own administrator account: a person entry, but not one of the print users. */
  admin: person(`uid=admin,${PEOPLE_BASE}`, 'Admin-annuaire-3', { uid: 'admin', cn: 'Directory Admin', sn: 'Admin', mail: 'admin@example.org' }),
  /** Alone under GUESTS_BASE. */
  guest: person(`uid=gpetit,${GUESTS_BASE}`, 'Guest-password-4', { uid: 'gpetit', cn: 'Gaston Petit', sn: 'Petit', mail: 'gaston.petit@example.org' }, [PRINT_USERS_GROUP]),
  /** Two entries with one uid (a person who left, and a new one): same password on both. */
  homonym: person(`uid=jmoreau,${PEOPLE_BASE}`, 'Homonym-password-5', { uid: 'jmoreau', cn: 'Jeanne Moreau', sn: 'Moreau' }),
  homonymFormer: person(`uid=jmoreau,ou=former,${PEOPLE_BASE}`, 'Homonym-password-5', { uid: 'jmoreau', cn: 'Jean Moreau', sn: 'Moreau' }),
  /**
   * Shaped like an Active Directory account: objectClass `user`, a sAMAccountName and a binary
   * objectGUID (the bytes of {3f2504e0-4f89-11d3-9a0c-0305e82c3301}, first three fields little-endian as AD stores them).
   */
  activeDirectory: person(`cn=Eve Lambert,ou=ad,${SUFFIX}`, 'Eve-AD-password-6', { sAMAccountName: 'elambert', cn: 'Eve Lambert', sn: 'Lambert', displayName: 'Eve Lambert', mail: 'eve.lambert@example.org' }, [STAFF_GROUP], {
    objectGUID: Buffer.from('e004253f894fd3119a0c0305e82c3301', 'hex'),
  }),
} as const;

export const ACTIVE_DIRECTORY_GUID = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';

const MANAGER = { dn: `cn=manager,${SUFFIX}`, password: 'manager-secret' };
const TOOLS = ['/usr/sbin/slapd', '/usr/sbin/slapadd', '/usr/sbin/slappasswd', '/usr/bin/ldapadd'];

export async function startSlapd(): Promise<TestDirectory> {
  for (const tool of TOOLS) {
    await access(tool, constants.X_OK).catch(() => {
      throw new Error(`${tool} is missing: the LDAP tests need Debian's OpenLDAP server and tools (apt-get install -y slapd ldap-utils)`);
    });
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'recharge-slapd-'));
  let slapd: ChildProcess | undefined;
  // Should the test process end without stop() (mocha --exit after a failure), slapd ends with it.
  const killOnExit = () => slapd?.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (slapd) await ended(slapd);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [ldapPort, ldapsPort] = [await freePort(), await freePort()];
    const files = await writeCertificates(dir);
    await mkdir(path.join(dir, 'slapd.d'));
    await mkdir(path.join(dir, 'data'));
    await writeFile(path.join(dir, 'config.ldif'), configLdif(dir, files));
    await run('/usr/sbin/slapadd', ['-n0', '-F', path.join(dir, 'slapd.d'), '-l', path.join(dir, 'config.ldif')]);

    // In the foreground (-d), so that it stays this process's child and ends with it.
    const child = spawn('/usr/sbin/slapd', ['-d', '0', '-h', `ldap://127.0.0.1:${ldapPort}/ ldaps://127.0.0.1:${ldapsPort}/`, '-F', path.join(dir, 'slapd.d')], { stdio: ['ignore', 'ignore', 'pipe'] });
    slapd = child;
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`slapd ended with ${child.exitCode}: ${output}`);
      return (await accepts(ldapPort)) && (await accepts(ldapsPort));
    }, 'slapd listens');

    const ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
    await writeFile(path.join(dir, 'data.ldif'), await dataLdif());
    // Added through slapd rather than slapadd, so that the memberOf overlay fills in memberOf.
    await run('/usr/bin/ldapadd', ['-x', '-H', ldapUrl, '-D', MANAGER.dn, '-w', MANAGER.password, '-f', path.join(dir, 'data.ldif')]);
    return { ldapUrl, ldapsUrl: `ldaps://127.0.0.1:${ldapsPort}`, caFile: files.certificate, foreignCaFile: files.foreignCertificate, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Stops slapd (SIGTERM, SIGKILL after 5 s) and waits for it. */
async function ended(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killer);
}


function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function selfSigned(commonName: string) {
  return generate([{ name: 'commonName', value: commonName }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });
}

async function writeCertificates(dir: string) {
  const [own, foreign] = await Promise.all([selfSigned('Test directory'), selfSigned('Another CA')]);
  const files = { certificate: path.join(dir, 'directory.crt'), key: path.join(dir, 'directory.key'), foreignCertificate: path.join(dir, 'foreign-ca.crt') };
  await writeFile(files.certificate, own.cert);
  await writeFile(files.key, own.private, { mode: 0o600 });
  await writeFile(files.foreignCertificate, foreign.cert);
  return files;
}

/**
 * cn=config: the mdb database with the memberOf overlay, the usual schemas plus the few Active
 * Directory names the AD-shaped entry needs (with AD's own OIDs), and access rules as a real
 * directory has them: passwords only usable to bind, entries readable by the service account only.
 */
function configLdif(dir: string, files: { certificate: string; key: string }): string {
  return `dn: cn=config
objectClass: olcGlobal
cn: config
olcTLSCertificateFile: ${files.certificate}
olcTLSCertificateKeyFile: ${files.key}

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file:///etc/ldap/schema/cosine.ldif

include: file:///etc/ldap/schema/inetorgperson.ldif

dn: cn=activedirectory,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: activedirectory
olcAttributeTypes: ( 1.2.840.113556.1.4.2 NAME 'objectGUID' SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcObjectClasses: ( 1.2.840.113556.1.5.9 NAME 'user' SUP inetOrgPerson STRUCTURAL MAY ( objectGUID $ sAMAccountName ) )

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: ${SUFFIX}
olcDbDirectory: ${path.join(dir, 'data')}
olcDbMaxSize: 10485760
olcRootDN: ${MANAGER.dn}
olcRootPW: ${MANAGER.password}
olcAccess: {0}to attrs=userPassword by anonymous auth by * none
olcAccess: {1}to * by dn.exact="${SERVICE_ACCOUNT.dn}" read by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfRefInt: TRUE
`;
}

async function hashed(password: string): Promise<string> {
  const { stdout } = await run('/usr/sbin/slappasswd', ['-s', password]);
  return stdout.trim();
}

async function dataLdif(): Promise<string> {
  const entry = (dn: string, lines: string[]) => [`dn: ${dn}`, ...lines].join('\n');
  const unit = (dn: string) => entry(dn, ['objectClass: organizationalUnit', `ou: ${/^ou=([^,]+)/.exec(dn)?.[1]}`]);
  const people = await Promise.all(
    Object.values(PEOPLE).map(async (each) =>
      entry(each.dn, [
        `objectClass: ${'sAMAccountName' in each.attributes ? 'user' : 'inetOrgPerson'}`,
        ...Object.entries(each.attributes).map(([name, value]) => `${name}: ${value}`),
        ...Object.entries(each.binaryAttributes ?? {}).map(([name, value]) => `${name}:: ${value.toString('base64')}`),
        `userPassword: ${await hashed(each.password)}`,
      ]),
    ),
  );
  const group = (dn: string) => {
    const members = Object.values(PEOPLE).filter((each) => each.groups.includes(dn));
    return entry(dn, ['objectClass: groupOfNames', `cn: ${/^cn=([^,]+)/.exec(dn)?.[1]}`, ...members.map((member) => `member: ${member.dn}`)]);
  };
  return [
    entry(SUFFIX, ['objectClass: dcObject', 'objectClass: organization', 'dc: example', 'o: Example']),
    ...[`ou=services,${SUFFIX}`, PEOPLE_BASE, `ou=former,${PEOPLE_BASE}`, GUESTS_BASE, `ou=ad,${SUFFIX}`, `ou=groups,${SUFFIX}`].map(unit),
    entry(SERVICE_ACCOUNT.dn, ['objectClass: organizationalRole', 'objectClass: simpleSecurityObject', 'cn: portal-reader', `userPassword: ${await hashed(SERVICE_ACCOUNT.password)}`]),
    ...people,
    // After the people: the memberOf overlay writes memberOf on entries that already exist.
    group(PRINT_USERS_GROUP),
    group(STAFF_GROUP),
  ].join('\n\n') + '\n';
}
