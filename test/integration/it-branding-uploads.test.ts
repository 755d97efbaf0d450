import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import sharp from 'sharp';
import supertest from 'supertest';
import { jpegWithExif, png, pngWithText, webp } from '../fixtures/images/builders.js';
import { REFUSALS } from '../fixtures/images/refusals.js';
import { createTestPortal, csrfTokenFrom, type TestPortal } from '../helpers/portal.js';
import { addPeople, brandingState, draftFields, fieldError, pageText, postDraft, signedIn, type Agent } from './it-branding-helpers.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('IT branding: logo and favicon uploads', function () {
  let portal: TestPortal;
  let it_: Agent;

  before(async () => {
    portal = await createTestPortal();
    await addPeople(portal);
    it_ = await signedIn(portal, 'it');
  });
  after(() => portal.cleanup());

  for (const field of ['logo', 'favicon'] as const) {
    for (const { what, file, code, message } of REFUSALS) {
      it(`refuses ${what} as the ${field}: ${code === 'too_large' ? 413 : 400}, the reason at the field, nothing written`, async () => {
        const before = await brandingState(portal);
        const response = await postDraft(it_, await draftFields(it_), { [field]: await file() });
        expect(response.status).to.equal(code === 'too_large' ? 413 : 400);
        expect(fieldError(response.text, field)).to.include(message);
        expect(pageText(response.text)).to.include("Rien n'a été enregistré");
        expect(await brandingState(portal)).to.deep.equal(before);
      });
    }
  }

  it('stores accepted PNG, JPEG and WebP images re-encoded as PNG, without metadata, under random names, with their rows and one audit row', async () => {
    const before = await brandingState(portal);
    const logo = { bytes: await pngWithText('Comment', 'made-with-some-editor'), fileName: 'logo.png', declaredType: 'image/png' };
    const favicon = { bytes: await jpegWithExif(48, 48), fileName: 'icône.jpg', declaredType: 'image/jpeg' };
    const response = await postDraft(it_, await draftFields(it_), { logo, favicon });
    expect(response.status, response.text).to.equal(303);
    expect(response.headers.location).to.equal('/it/branding?notice=draft');

    const after = await brandingState(portal);
    expect(after).to.include({ uploads: before.uploads + 2, versions: before.versions + 1, publications: before.publications, audit: before.audit + 1 });
    const version = await portal.db.knex('branding_versions').orderBy('id', 'desc').first();
    const rows = await portal.db.knex('branding_uploads').whereIn('id', [version.logo_upload_id, version.favicon_upload_id]);
    expect(rows.map((row: { purpose: string }) => row.purpose).sort()).to.deep.equal(['favicon', 'logo']);
    expect(after.files.filter((name) => !before.files.includes(name)).sort()).to.deep.equal([`${version.favicon_upload_id}.png`, `${version.logo_upload_id}.png`].sort());
    for (const row of rows) {
      expect(row.id).to.match(/^[0-9a-f]{32}$/);
      const stored = await readFile(path.join(portal.config.branding.uploadsDir, `${row.id}.png`));
      expect(stored.subarray(0, 8).equals(PNG_SIGNATURE)).to.equal(true);
      expect(stored.includes('made-with-some-editor')).to.equal(false);
      expect(stored.includes('exif-secret-marker')).to.equal(false);
      const metadata = await sharp(stored).metadata();
      expect(metadata).to.include({ format: 'png', width: Number(row.width), height: Number(row.height) });
      expect(metadata.exif).to.equal(undefined);
      expect(Number(row.byte_size)).to.equal(stored.length);
      expect(row.content_type).to.equal('image/png');
    }
    expect(rows.find((row: { purpose: string }) => row.purpose === 'favicon')).to.deep.include({ width: 64, height: 64 });

    const audit = await portal.db.knex('audit_log').orderBy('id', 'desc').first();
    expect(audit).to.include({ action: 'branding.draft', actor_username: 'informatique', target: `version ${version.id}` });
    const recorded = JSON.parse(audit.after_json);
    expect(recorded).to.include({ versionId: version.id, logoUploadId: version.logo_upload_id, faviconUploadId: version.favicon_upload_id });
    expect(recorded.uploads.map((upload: { id: string }) => upload.id).sort()).to.deep.equal([version.logo_upload_id, version.favicon_upload_id].sort());

    const webpResponse = await postDraft(it_, await draftFields(it_), { logo: { bytes: await webp(200, 100), fileName: 'logo.webp', declaredType: 'image/webp' } });
    expect(webpResponse.status).to.equal(303);
    const webpVersion = await portal.db.knex('branding_versions').orderBy('id', 'desc').first();
    const webpFile = await readFile(path.join(portal.config.branding.uploadsDir, `${webpVersion.logo_upload_id}.png`));
    expect(webpFile.subarray(0, 8).equals(PNG_SIGNATURE)).to.equal(true);
    // The favicon was kept from the version the form started from.
    expect(webpVersion.favicon_upload_id).to.equal(version.favicon_upload_id);
  });

  it('serves an upload to anyone with a fixed type, nosniff, a sandboxing CSP and a year of caching; the preview uses it', async () => {
    await postDraft(it_, await draftFields(it_), { logo: { bytes: await png(80, 40), fileName: 'logo.png', declaredType: 'image/png' } }).expect(303);
    const version = await portal.db.knex('branding_versions').orderBy('id', 'desc').first();
    const url = `/uploads/${version.logo_upload_id}.png`;
    const response = await supertest(portal.app).get(url).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect(response.status).to.equal(200);
    expect(response.headers).to.include({
      'content-type': 'image/png',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': 'public, max-age=31536000, immutable',
    });
    expect((response.body as Buffer).equals(await readFile(path.join(portal.config.branding.uploadsDir, `${version.logo_upload_id}.png`)))).to.equal(true);
    const account = await it_.get('/account').expect(200);
    expect(account.text).to.include(`src="${url}"`);
  });

  it('serves nothing else from the uploads folder: unknown, malformed or traversing names and files without a row are 404', async () => {
    const stray = 'a'.repeat(32);
    await writeFile(path.join(portal.config.branding.uploadsDir, `${stray}.png`), await png());
    await postDraft(it_, await draftFields(it_), { logo: { bytes: await png(), fileName: 'logo.png', declaredType: 'image/png' } }).expect(303);
    const upload = { id: (await portal.db.knex('branding_versions').orderBy('id', 'desc').first()).logo_upload_id as string };
    expect((await supertest(portal.app).get(`/uploads/${upload.id}.png`)).status).to.equal(200);
    for (const url of [
      `/uploads/${stray}.png`,
      `/uploads/${'0'.repeat(32)}.png`,
      `/uploads/${upload.id.toUpperCase()}.png`,
      `/uploads/${upload.id}.PNG`,
      `/uploads/${upload.id}`,
      `/uploads/${upload.id}.png.html`,
      '/uploads/..%2F..%2Fpackage.json',
      '/uploads/%2e%2e%2fpackage.png',
      '/uploads/../package.json',
    ]) {
      expect((await supertest(portal.app).get(url)).status, url).to.equal(404);
    }
  });

  it('does not read an upload from someone without the role, nor one without its CSRF token: 403 and nothing written', async () => {
    const before = await brandingState(portal);
    const student = await signedIn(portal, 'user');
    const token = csrfTokenFrom((await student.get('/account').expect(200)).text);
    const logo = { bytes: await png(), fileName: 'logo.png', declaredType: 'image/png' };
    expect((await postDraft(student, { _csrf: token, theme: 'default' }, { logo })).status).to.equal(403);
    expect((await postDraft(supertest.agent(portal.app), { theme: 'default' }, { logo })).status).to.equal(403);
    const fields = await draftFields(it_);
    delete fields._csrf;
    expect((await postDraft(it_, fields, { logo })).status).to.equal(403);
    expect((await postDraft(it_, { ...fields, _csrf: 'forged' }, { logo })).status).to.equal(403);
    expect(await brandingState(portal)).to.deep.equal(before);
  });

  it('refuses a new file together with "use the theme\'s own", and more files than the form has', async () => {
    const before = await brandingState(portal);
    const logo = { bytes: await png(), fileName: 'logo.png', declaredType: 'image/png' };
    const both = await postDraft(it_, { ...(await draftFields(it_)), logoReset: '1' }, { logo });
    expect(both.status).to.equal(400);
    expect(fieldError(both.text, 'logo')).to.equal('Choisissez soit un nouveau fichier, soit celui du thème, pas les deux.');
    const extra = await postDraft(it_, await draftFields(it_), { logo }).attach('other', logo.bytes, { filename: 'other.png', contentType: 'image/png' });
    expect(extra.status).to.equal(400);
    expect(pageText(extra.text)).to.include("Le formulaire n'a pas pu être lu");
    expect(await brandingState(portal)).to.deep.equal(before);
  });

  it('keeps a wide logo wide: stored at its ratio, drawn in the header at that ratio (sizes reserved), the theme logo at its own', async () => {
    const headerLogo = (html: string) => /<img src="([^"]*)" class="brand__logo" alt=""(?: width="(\d+)" height="(\d+)")?>/.exec(html);
    await postDraft(it_, { ...(await draftFields(it_)), logoReset: '1' }).expect(303);
    const square = headerLogo((await it_.get('/account').expect(200)).text);
    expect(square?.slice(1)).to.deep.equal(['/themes/default/assets/logo.svg', '40', '40']);

    await postDraft(it_, await draftFields(it_), { logo: { bytes: await png(400, 100), fileName: 'wide.png', declaredType: 'image/png' } }).expect(303);
    const version = await portal.db.knex('branding_versions').orderBy('id', 'desc').first();
    const stored = await sharp(await readFile(path.join(portal.config.branding.uploadsDir, `${version.logo_upload_id}.png`))).metadata();
    expect({ width: stored.width, height: stored.height }).to.deep.equal({ width: 400, height: 100 });
    const header = headerLogo((await it_.get('/account').expect(200)).text);
    expect(header?.slice(1)).to.deep.equal([`/uploads/${version.logo_upload_id}.png`, '160', '40']);
  });

  it("goes back to the theme folder's own logo when asked", async () => {
    await postDraft(it_, await draftFields(it_), { logo: { bytes: await png(), fileName: 'logo.png', declaredType: 'image/png' } }).expect(303);
    expect((await portal.db.knex('branding_versions').orderBy('id', 'desc').first()).logo_upload_id).to.match(/^[0-9a-f]{32}$/);
    await postDraft(it_, { ...(await draftFields(it_)), logoReset: '1' }).expect(303);
    const version = await portal.db.knex('branding_versions').orderBy('id', 'desc').first();
    expect(version.logo_upload_id).to.equal(null);
    expect((await it_.get('/account').expect(200)).text).to.include('src="/themes/default/assets/logo.svg"');
  });
});
