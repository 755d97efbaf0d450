import { expect } from 'chai';
import { strFromU8, unzipSync } from 'fflate';
import supertest from 'supertest';
import { testDialect } from '../helpers/database.js';
import { download } from '../helpers/downloads.js';
import { logIn } from '../helpers/portal.js';
import { apiPortalPerTest, newIdempotencyKey } from './print-api-helpers.js';

/** A finding of the retention review: the download must hold what the print servers reported of the person's jobs. */
describe(`retention review: print jobs in a person's data (${testDialect})`, () => {
  const context = apiPortalPerTest();

  it('puts in the download the jobs charged and refused, with their printer, pages and time', async () => {
    const { api } = context;
    const debit = { category: 'print', units: 0.3, pages: 3, printer: 'Salle-B204', colour: true, reference: 'job-b204' };
    expect((await api.api({ method: 'POST', path: '/accounts/alice/debits', headers: { 'Idempotency-Key': newIdempotencyKey() }, body: debit })).status).to.equal(201);
    const refusal = { category: 'print', units: 50, pages: 500, printer: 'Salle-C310', reason: 'insufficient-balance', reference: 'job-c310' };
    expect((await api.api({ method: 'POST', path: '/accounts/alice/refusals', body: refusal })).status).to.be.oneOf([200, 201]);
    const agent = supertest.agent(api.portal.app);
    await logIn(agent, 'alice', 'alice-password-123');

    const files = unzipSync(new Uint8Array((await download(agent, '/account/data/download').expect(200)).body as Buffer));
    const everything = Object.entries(files).filter(([name]) => name.endsWith('.json')).map(([, bytes]) => strFromU8(bytes)).join('\n');
    expect(everything, 'the printer of the job charged').to.include('Salle-B204');
    expect(everything, 'the printer of the job refused').to.include('Salle-C310');
  });
});
