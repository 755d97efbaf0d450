import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { expect } from 'chai';
import { generate } from 'selfsigned';
import { signInKeyRepository } from '../../src/db/identity/sign-in-key-repository.js';
import type { ProviderFailure, VerifiedIdentity } from '../../src/domain/identity/identity.js';
import { providerConfigSchema, type SamlProviderConfig } from '../../src/domain/identity/provider-config.js';
import type { PendingState, RedirectIdentityProvider } from '../../src/identity/provider.js';
import { createSamlProvider } from '../../src/identity/saml/saml-provider.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { createTestSamlIdp, PERSISTENT, TRANSIENT, type ResponseOptions, type SamlPerson, type TestSamlIdp } from '../helpers/identity/saml-idp.js';

const PORTAL = 'https://recharge.test';
const ENTITY_ID = `${PORTAL}/auth/uni/metadata`;
const ACS_URL = `${PORTAL}/auth/uni/acs`;
const CALLBACK_URL = `${PORTAL}/auth/uni/callback`;

const PAIRWISE_ID = 'urn:oasis:names:tc:SAML:attribute:pairwise-id';
const EPPN = 'urn:oid:1.3.6.1.4.1.5923.1.1.1.6';
const MAIL = 'urn:oid:0.9.2342.19200300.100.1.3';
const DISPLAY_NAME = 'urn:oid:2.16.840.1.113730.3.1.241';
const AFFILIATION = 'urn:oid:1.3.6.1.4.1.5923.1.1.1.1';

const camille: SamlPerson = {
  nameId: { value: 'AAdzZWNyZXQxeyJ0cmFuc2llbnQi', format: TRANSIENT },
  attributes: {
    [PAIRWISE_ID]: ['HTGRNB5WQ2PSVMFO@univ.example'],
    [EPPN]: ['camille.martin@univ.example'],
    [MAIL]: ['camille.martin@univ.example'],
    [DISPLAY_NAME]: ['Camille Martin'],
    [AFFILIATION]: ['student', 'member'],
  },
};
/** Who an attacker would like to be. */
const director: SamlPerson = {
  nameId: { value: 'director', format: PERSISTENT },
  attributes: { [PAIRWISE_ID]: ['DIRECTOR@univ.example'], [AFFILIATION]: ['staff'] },
};

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

async function listen(handler: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer(handler);
  server.on('connection', (socket) => sockets.add(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function expectRefused(outcome: unknown, detail: RegExp): void {
  expect(outcome).to.include({ ok: false, reason: 'refused' });
  expect((outcome as ProviderFailure).detail).to.match(detail);
}

describe('SAML 2.0 service provider against a signing test IdP (node-saml, real SQLite keys)', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let idp: TestSamlIdp;
  /** Another key claiming to be the same IdP. */
  let forger: TestSamlIdp;
  let clock: Date;
  const sealKey = randomBytes(32);

  before(async () => {
    database = await createTestDatabase();
    [idp, forger] = await Promise.all([createTestSamlIdp(), createTestSamlIdp()]);
  });
  after(() => database.cleanup());
  beforeEach(() => {
    clock = new Date();
  });

  function samlConfig(overrides: Record<string, unknown> = {}): SamlProviderConfig {
    return providerConfigSchema.parse({
      id: 'uni',
      kind: 'saml',
      label: 'Université',
      entryPoint: idp.ssoUrl,
      idpIssuer: idp.entityId,
      idpCertificates: [idp.certificate],
      ...overrides,
    }) as SamlProviderConfig;
  }

  /** One portal instance: its own provider and repository objects over the shared database. */
  function portalInstance(config = samlConfig(), key = sealKey): RedirectIdentityProvider {
    const now = () => clock;
    return createSamlProvider(config, { entityId: ENTITY_ID, acsUrl: ACS_URL, callbackUrl: CALLBACK_URL, keys: signInKeyRepository(database.db.knex, config.id, now), sealKey: key, now });
  }

  /** The browser's round trip: start, the IdP's answer (broken by `overrides`), the POST to the ACS. */
  async function postAnswer(saml: RedirectIdentityProvider, person: SamlPerson, overrides: Partial<ResponseOptions> = {}, from: TestSamlIdp = idp) {
    const { location, pending } = await saml.start();
    const accepted = await saml.acceptPost!(from.answer(location, person, overrides));
    return { location, pending, accepted };
  }

  async function finish(saml: RedirectIdentityProvider, accepted: unknown, pending: PendingState): Promise<VerifiedIdentity | ProviderFailure> {
    expect(accepted, JSON.stringify(accepted)).to.have.property('location');
    return saml.finish({ url: new URL((accepted as { location: string }).location), pending });
  }

  describe('a good answer', () => {
    it('sends the browser to the IdP with an AuthnRequest whose id is kept as pending, asking for no NameID format or authentication class', async () => {
      const { location, pending } = await portalInstance().start();
      expect(location.startsWith(`${idp.ssoUrl}?SAMLRequest=`)).to.equal(true);
      const request = idp.readRequest(location);
      expect(request).to.deep.include({ id: pending.requestId, issuer: ENTITY_ID, acsUrl: ACS_URL, destination: idp.ssoUrl, nameIdFormat: null, requestsAuthnContext: false, signed: false });
      expect(request.id).to.match(/^_[0-9a-f]{40}$/);
    });

    it('signs in with the pairwise-id as subject and every attribute as a list of strings keyed by Name', async () => {
      const saml = portalInstance();
      const { pending, accepted } = await postAnswer(saml, camille);
      expect((accepted as { location: string }).location).to.match(new RegExp(`^${CALLBACK_URL}\\?result=[A-Za-z0-9_-]+$`));
      expect(await finish(saml, accepted, pending)).to.deep.equal({
        ok: true,
        subject: 'HTGRNB5WQ2PSVMFO@univ.example',
        attributes: camille.attributes,
        // How the IdP says Camille authenticated, from the signed assertion (issue 24: the provider's MFA).
        authnContext: { classRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport' },
      });
    });

    it('accepts an answer received by another instance (the request ids live in the database) and a Response signed as well', async () => {
      const { location, pending } = await portalInstance().start();
      const other = portalInstance();
      const accepted = await other.acceptPost!(idp.answer(location, camille, { signResponse: true }));
      expect(await finish(other, accepted, pending)).to.include({ ok: true, subject: 'HTGRNB5WQ2PSVMFO@univ.example' });
    });

    it('takes eduPersonPrincipalName without a pairwise-id, then a persistent NameID; a transient NameID alone is refused', async () => {
      const saml = portalInstance();
      const withEppn = { nameId: camille.nameId, attributes: { [EPPN]: ['camille.martin@univ.example'], [MAIL]: ['c@univ.example'] } };
      let round = await postAnswer(saml, withEppn);
      expect(await finish(saml, round.accepted, round.pending)).to.include({ ok: true, subject: 'camille.martin@univ.example' });
      round = await postAnswer(saml, { nameId: { value: 'k8Xq2Lw9', format: PERSISTENT }, attributes: { [MAIL]: ['c@univ.example'] } });
      expect(await finish(saml, round.accepted, round.pending)).to.include({ ok: true, subject: 'k8Xq2Lw9' });
      round = await postAnswer(saml, { nameId: camille.nameId, attributes: { [MAIL]: ['c@univ.example'] } });
      expectRefused(round.accepted, /no pairwise-id, eduPersonPrincipalName or persistent NameID/);
    });

    it('uses only the configured subject attribute, never falling back to another identifier space', async () => {
      const saml = portalInstance(samlConfig({ subjectAttribute: 'urn:oid:1.3.6.1.4.1.5923.1.1.1.13' }));
      let round = await postAnswer(saml, { ...camille, attributes: { ...camille.attributes, 'urn:oid:1.3.6.1.4.1.5923.1.1.1.13': ['c-0042'] } });
      expect(await finish(saml, round.accepted, round.pending)).to.include({ ok: true, subject: 'c-0042' });
      round = await postAnswer(saml, camille);
      expectRefused(round.accepted, /subject attribute urn:oid:1\.3\.6\.1\.4\.1\.5923\.1\.1\.1\.13/);
    });

    it('signs its AuthnRequests with RSA-SHA256 when it has a key and certificate, verifiable by the IdP', async () => {
      const sp = await generate([{ name: 'commonName', value: 'recharge.test' }], { keySize: 2048, algorithm: 'sha256' });
      const saml = portalInstance(samlConfig({ secret: sp.private, spCertificate: sp.cert }));
      const verifyingIdp = await createTestSamlIdp({ spCertificate: sp.cert });
      const { location, pending } = await saml.start();
      expect(verifyingIdp.readRequest(location)).to.deep.include({ id: pending.requestId, signed: true });
      const otherRequest = new URL((await portalInstance().start()).location).searchParams.get('SAMLRequest')!;
      const swapped = location.replace(/SAMLRequest=[^&]+/, `SAMLRequest=${encodeURIComponent(otherRequest)}`);
      expect(() => verifyingIdp.readRequest(swapped)).to.throw(/does not verify/);
    });

    it('accepts an assertion up to the configured clock skew after its NotOnOrAfter', async () => {
      const lateBy30s = { notOnOrAfter: new Date(Date.now() - 30_000), notBefore: new Date(Date.now() - 5 * MINUTE_MS) };
      const lenient = portalInstance(samlConfig({ clockSkewSeconds: 60 }));
      const round = await postAnswer(lenient, camille, lateBy30s);
      expect(await finish(lenient, round.accepted, round.pending)).to.include({ ok: true });
      expectRefused((await postAnswer(portalInstance(samlConfig({ clockSkewSeconds: 0 })), camille, lateBy30s)).accepted, /expired|No valid subject confirmation/);
    });

    it('reports a status other than Success (the person cancelled at the IdP) as cancelled', async () => {
      const { accepted } = await postAnswer(portalInstance(), camille, { status: 'urn:oasis:names:tc:SAML:2.0:status:Responder' });
      expect(accepted).to.include({ ok: false, reason: 'cancelled' });
    });
  });

  describe('hostile answers are refused', () => {
    it('an assertion signed by another key', async () => {
      expectRefused((await postAnswer(portalInstance(), director, {}, forger)).accepted, /Invalid signature/);
    });

    it('an unsigned assertion in an unsigned Response, and an unsigned assertion in a signed Response', async () => {
      expectRefused((await postAnswer(portalInstance(), director, { signAssertion: false })).accepted, /Invalid signature/);
      expectRefused((await postAnswer(portalInstance(), director, { signAssertion: false, signResponse: true })).accepted, /Invalid signature/);
    });

    it('an assertion for another audience', async () => {
      expectRefused((await postAnswer(portalInstance(), camille, { audience: 'https://other-sp.example/shibboleth' })).accepted, /audience mismatch/);
    });

    it('an expired assertion', async () => {
      const expired = { notBefore: new Date(Date.now() - 10 * MINUTE_MS), notOnOrAfter: new Date(Date.now() - 5 * MINUTE_MS) };
      expectRefused((await postAnswer(portalInstance(), camille, expired)).accepted, /expired|No valid subject confirmation/);
    });

    it('an assertion whose confirmation for our ACS expired, beside a valid one for another SP', async () => {
      const answer = { subjectNotOnOrAfter: new Date(Date.now() - 2 * MINUTE_MS), extraConfirmation: { recipient: 'https://other-sp.example/acs', notOnOrAfter: new Date(Date.now() + 5 * MINUTE_MS) } };
      expectRefused((await postAnswer(portalInstance(), camille, answer)).accepted, /SubjectConfirmationData expired/);
    });

    it('an assertion not yet valid', async () => {
      const early = { notBefore: new Date(Date.now() + 5 * MINUTE_MS), notOnOrAfter: new Date(Date.now() + 10 * MINUTE_MS) };
      expectRefused((await postAnswer(portalInstance(), camille, early)).accepted, /not yet valid/);
    });

    it('the same answer posted twice, and another answer to an already answered request', async () => {
      const saml = portalInstance();
      const { location } = await saml.start();
      const answer = idp.answer(location, camille);
      expect(await saml.acceptPost!(answer)).to.have.property('location');
      expectRefused(await saml.acceptPost!(answer), /InResponseTo is not valid/);
      expectRefused(await saml.acceptPost!(idp.answer(location, camille)), /InResponseTo is not valid/);
    });

    it('two answers to one request racing each other: only one is accepted', async () => {
      const saml = portalInstance();
      const { location } = await saml.start();
      const outcomes = await Promise.all([0, 1, 2, 3].map(() => portalInstance().acceptPost!(idp.answer(location, camille))));
      expect(outcomes.filter((outcome) => 'location' in outcome)).to.have.length(1);
    });

    it('an assertion id seen before, even in an answer to a new request', async () => {
      const assertionId = `_${randomBytes(16).toString('hex')}`;
      const first = await postAnswer(portalInstance(), camille, { assertionId });
      expect(first.accepted).to.have.property('location');
      expectRefused((await postAnswer(portalInstance(), camille, { assertionId })).accepted, /already used/);
    });

    for (const placement of ['before', 'after', 'around'] as const) {
      it(`signature wrapping: an unsigned assertion ${placement} the signed one`, async () => {
        const { accepted } = await postAnswer(portalInstance(), camille, { wrap: { evil: director, placement } });
        expectRefused(accepted, placement === 'around' ? /Invalid signature/ : /multiple assertions/);
      });
    }

    it('a SubjectConfirmation for another Recipient', async () => {
      expectRefused((await postAnswer(portalInstance(), camille, { recipient: 'https://other-sp.example/Shibboleth.sso/SAML2/POST' })).accepted, /no bearer SubjectConfirmation for our ACS/);
    });

    it('a Response addressed to another Destination (none at all is fine)', async () => {
      expectRefused((await postAnswer(portalInstance(), camille, { destination: 'https://other-sp.example/acs' })).accepted, /Destination/);
      expect((await postAnswer(portalInstance(), camille, { destination: null })).accepted).to.have.property('location');
    });

    it('an assertion from another issuer, even signed with the configured key', async () => {
      expectRefused((await postAnswer(portalInstance(), camille, { issuer: 'https://idp.other.example/idp' })).accepted, /Issuer/);
    });

    it('an unsolicited answer, one to an unknown request, and a signed assertion moved under another request', async () => {
      expectRefused((await postAnswer(portalInstance(), camille, { inResponseTo: null })).accepted, /InResponseTo is missing/);
      expectRefused((await postAnswer(portalInstance(), camille, { inResponseTo: '_0123456789abcdef', subjectInResponseTo: '_0123456789abcdef' })).accepted, /InResponseTo is not valid/);
      const earlier = await portalInstance().start();
      expectRefused((await postAnswer(portalInstance(), camille, { subjectInResponseTo: earlier.pending.requestId })).accepted, /does not match subjectInResponseTo/);
      expectRefused((await postAnswer(portalInstance(), camille, { subjectInResponseTo: null })).accepted, /SubjectConfirmationData answers undefined/);
    });

    it('a failing key store is an error for the caller, not a refused answer', async () => {
      const closed = await createTestDatabase();
      await closed.cleanup();
      const now = () => clock;
      const config = samlConfig();
      const withoutDatabase = createSamlProvider(config, { entityId: ENTITY_ID, acsUrl: ACS_URL, callbackUrl: CALLBACK_URL, keys: signInKeyRepository(closed.db.knex, config.id, now), sealKey, now });
      const { location } = await portalInstance().start();
      const outcome = await withoutDatabase.acceptPost!(idp.answer(location, camille)).then(
        (answer) => answer,
        (error: unknown) => error,
      );
      expect(outcome).to.be.instanceOf(Error).and.not.have.property('reason');
    });

    it('anything that is not a SAML answer, without throwing', async () => {
      const saml = portalInstance();
      for (const body of [{}, { SAMLResponse: 42 }, { SAMLResponse: '' }, { SAMLResponse: 'not base64 &&' }, { SAMLResponse: Buffer.from('<a>').toString('base64') }, { SAMLResponse: 'A'.repeat(600_000) }]) {
        expect(await saml.acceptPost!(body)).to.include({ ok: false, reason: 'refused' });
      }
    });
  });

  describe('the sealed result between the ACS and the callback', () => {
    it('is refused when its ciphertext or its authentication tag is altered', async () => {
      const saml = portalInstance();
      const { pending, accepted } = await postAnswer(saml, camille);
      // The token is iv (12 bytes) | tag (16 bytes) | ciphertext.
      for (const offset of [-1, 12]) {
        const url = new URL((accepted as { location: string }).location);
        const token = Buffer.from(url.searchParams.get('result')!, 'base64url');
        const at = offset < 0 ? token.length + offset : offset;
        token.writeUInt8(token.readUInt8(at) ^ 1, at);
        url.searchParams.set('result', token.toString('base64url'));
        expectRefused(await saml.finish({ url, pending }), /altered/);
      }
    });

    it('is refused after two minutes', async () => {
      const saml = portalInstance();
      const { pending, accepted } = await postAnswer(saml, camille);
      clock = new Date(clock.getTime() + 2 * MINUTE_MS);
      expectRefused(await finish(saml, accepted, pending), /expired/);
    });

    it('is refused in a browser that did not start the request it answers (login CSRF)', async () => {
      const saml = portalInstance();
      const attacker = await postAnswer(saml, director);
      const victim = await saml.start();
      expectRefused(await finish(saml, attacker.accepted, victim.pending), /answers request/);
      expectRefused(await finish(saml, attacker.accepted, {}), /answers request/);
    });

    it('is refused by another provider, or when sealed with another key', async () => {
      const { pending, accepted } = await postAnswer(portalInstance(), camille);
      expectRefused(await finish(portalInstance(samlConfig({ id: 'other-uni' })), accepted, pending), /altered/);
      expectRefused(await finish(portalInstance(samlConfig(), randomBytes(32)), accepted, pending), /altered/);
    });
  });

  describe('metadata and health', () => {
    it('publishes SP metadata: entityID, the ACS with the HTTP-POST binding, WantAssertionsSigned, and the signing certificate when configured', async () => {
      const plain = portalInstance().metadata!();
      expect(plain).to.contain(`entityID="${ENTITY_ID}"`).and.contain('WantAssertionsSigned="true"').and.contain('AuthnRequestsSigned="false"');
      expect(plain).to.match(new RegExp(`<AssertionConsumerService[^>]*Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"[^>]*Location="${ACS_URL}"`));
      expect(plain).not.to.contain('KeyDescriptor');
      const sp = await generate([{ name: 'commonName', value: 'recharge.test' }], { keySize: 2048, algorithm: 'sha256' });
      const signing = portalInstance(samlConfig({ secret: sp.private, spCertificate: sp.cert })).metadata!();
      expect(signing).to.contain('AuthnRequestsSigned="true"').and.contain('<KeyDescriptor use="signing">');
      expect(signing.replace(/\s/g, '')).to.contain(sp.cert.replace(/-----[A-Z ]+-----|\s/g, ''));
    });

    it('reaches the IdP metadata and lists the certificates with their expiry', async () => {
      const server = await listen((_request, response) => response.writeHead(200, { 'Content-Type': 'application/samlmetadata+xml' }).end(idp.metadata()));
      try {
        const health = await portalInstance(samlConfig({ metadataUrl: `${server.url}/idp/shibboleth` })).health();
        expect(health).to.include({ reachable: true, checkedAt: clock.toISOString() });
        expect(health.detail).to.contain(`describes ${idp.entityId}`).and.not.contain('expire');
        expect(health.certificates).to.have.length(1);
        expect(health.certificates![0]!.subject).to.contain(`CN=Test IdP ${idp.entityId}`);
        expect(Date.parse(health.certificates![0]!.notAfter)).to.be.greaterThan(clock.getTime() + 300 * DAY_MS);
      } finally {
        await server.close();
      }
    });

    it('reports metadata that is missing, describes another entity, or does not answer within the timeout', async () => {
      const hanging = await listen(() => undefined);
      const other = await listen((_request, response) => response.end(forger.metadata().replace(forger.entityId, 'https://idp.other.example/idp')));
      const gone = await listen(() => undefined);
      await gone.close();
      try {
        const health = (metadataUrl: string) => portalInstance(samlConfig({ metadataUrl, timeoutMs: 500 })).health();
        const started = Date.now();
        const timedOut = await health(hanging.url);
        expect(Date.now() - started).to.be.lessThan(5_000);
        expect(timedOut).to.include({ reachable: false });
        expect(timedOut.detail).to.match(/unreachable/);
        expect((await health(other.url)).detail).to.contain(`does not describe ${idp.entityId}`);
        expect(await health(gone.url)).to.include({ reachable: false });
      } finally {
        await Promise.all([hanging.close(), other.close()]);
      }
    });

    it('says when a certificate expires within 30 days or has expired, and reads base64 DER as metadata carries it', async () => {
      const soon = await createTestSamlIdp({ certificateNotAfter: new Date(Date.now() + 10 * DAY_MS) });
      const expired = await createTestSamlIdp({ certificateNotAfter: new Date(Date.now() - DAY_MS) });
      const der = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');
      const health = await portalInstance(samlConfig({ idpCertificates: [der(soon.certificate), expired.certificate] })).health();
      expect(health.certificates).to.have.length(2);
      expect(health.detail).to.match(/expires in (9|10) day\(s\)/).and.match(/expired on/);
      expect(health.reachable).to.equal(true);
      const allExpired = await portalInstance(samlConfig({ idpCertificates: [expired.certificate] })).health();
      expect(allExpired.reachable).to.equal(false);
    });
  });
});
