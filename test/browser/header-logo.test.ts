import { expect } from 'chai';
import supertest from 'supertest';
import { png } from '../fixtures/images/builders.js';
import { draftFields, postDraft } from '../integration/it-branding-helpers.js';
import { startPortalInBrowser, type PortalInBrowser } from './portal-in-browser.js';

describe('a wide logo in the header, in Chromium', function () {
  this.timeout(120_000);
  let session: PortalInBrowser;
  before(async () => {
    session = await startPortalInBrowser();
    // IT saves a 400×100 logo as a draft, which IT's session shows at once: saved with the browser's session.
    const { context } = await session.open({ width: 1280, as: 'informatique' });
    const cookies = (await context.cookies()).map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
    await context.close();
    const it = supertest.agent(session.portal.app).set('Cookie', cookies);
    await postDraft(it, await draftFields(it), { logo: { bytes: await png(400, 100), fileName: 'wide.png', declaredType: 'image/png' } }).expect(303);
  });
  after(() => session?.close());

  /** The logo as drawn: its box, and the picture inside it (object-fit: contain keeps the ratio in a narrower box). */
  async function drawnLogo(width: number) {
    const { page, context } = await session.open({ width, as: 'informatique' });
    try {
      await page.goto('/account');
      const logo = page.locator('.brand__logo');
      await logo.evaluate((image: HTMLImageElement) => image.decode());
      const box = (await logo.boundingBox())!;
      const [naturalWidth, naturalHeight] = await logo.evaluate((image: HTMLImageElement) => [image.naturalWidth, image.naturalHeight]);
      const scale = Math.min(box.width / naturalWidth!, box.height / naturalHeight!);
      return { box: { width: Math.round(box.width), height: Math.round(box.height) }, picture: { width: Math.round(naturalWidth! * scale), height: Math.round(naturalHeight! * scale) } };
    } finally {
      await context.close();
    }
  }

  it('is drawn 40 px high at its own width (160 px) on a desktop', async () => {
    expect(await drawnLogo(1280)).to.deep.equal({ box: { width: 160, height: 40 }, picture: { width: 160, height: 40 } });
  });

  it('keeps its ratio on a 360 px phone, narrower but still readable', async () => {
    const { box, picture } = await drawnLogo(360);
    expect(box.height).to.equal(40);
    expect(picture.width / picture.height).to.equal(4);
    expect(picture.width, 'the picture is at least 100 px wide').to.be.at.least(100);
  });
});
