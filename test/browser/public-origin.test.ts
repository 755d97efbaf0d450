import { expect } from 'chai';
import { startPortalInBrowser, type PortalInBrowser } from './portal-in-browser.js';

describe('the portal on its PUBLIC_URL origin, in Chromium', function () {
  this.timeout(120_000);
  let session: PortalInBrowser;
  before(async () => {
    // PUBLIC_URL is http://127.0.0.1:<port> here; the test configuration turns the redirect off, this portal on.
    session = await startPortalInBrowser({ REDIRECT_TO_PUBLIC_URL: 'true' });
  });
  after(() => session?.close());

  it('sends a person who typed another name of the server to PUBLIC_URL before any cookie, and signs them in there', async () => {
    const { page, context } = await session.open({ width: 360 });
    try {
      const other = new URL(session.baseUrl);
      other.hostname = 'localhost';
      await page.goto(`${other.origin}/login?next=%2Faccount`);
      expect(page.url()).to.equal(`${session.baseUrl}/login?next=%2Faccount`);
      expect((await context.cookies(other.origin)).map((cookie) => cookie.name), 'cookies left on the other name').to.deep.equal([]);

      const login = session.logins.find((candidate) => candidate.username === 'etudiant')!;
      await page.locator('#username').fill(login.username);
      await page.locator('#password').fill(login.password);
      await Promise.all([page.waitForURL((url) => url.origin === session.baseUrl && url.pathname !== '/login'), page.locator('form[action="/login"] button[type="submit"]').click()]);
      // The session lives on PUBLIC_URL's origin, where PayPal sends the buyer back.
      expect((await context.cookies(session.baseUrl)).length).to.be.greaterThan(0);
    } finally {
      await context.close();
    }
  });
});
