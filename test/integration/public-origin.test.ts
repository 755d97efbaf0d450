import { expect } from 'chai';
import supertest from 'supertest';
import { loadConfig } from '../../src/config.js';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestPortal, type TestPortal } from '../helpers/portal.js';

/** A GET written by hand, so that its request line can be in absolute form, which supertest never sends. */
async function rawGet(portal: TestPortal, target: string, host: string): Promise<{ status: number; location: string | undefined }> {
  const server = portal.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      const sent = httpRequest({ host: '127.0.0.1', port, method: 'GET', path: target, headers: { Host: host } }, (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, location: response.headers.location });
      });
      sent.on('error', reject);
      sent.end();
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('pages only on the PUBLIC_URL origin', () => {
  let portal: TestPortal;
  after(() => portal?.cleanup());

  it('is on by default outside the tests', () => {
    for (const NODE_ENV of ['development', 'production'] as const) {
      const config = loadConfig({ env: { NODE_ENV, SESSION_SECRET: 'f3a9c1d7e2b84f6a9d0c5e7b1a2f4c8d9e6b3a7f1c2d5e8a', PUBLIC_URL: 'https://recharge.example.edu', TRUST_PROXY: '1', PAYPAL_ENV: 'simulator', ALLOW_SIMULATED_PAYMENTS_IN_PRODUCTION: 'true', MAIL_DELIVERY: 'keep' } });
      expect(config.server.redirectToPublicUrl, NODE_ENV).to.equal(true);
    }
  });

  it('is off when no PUBLIC_URL is set and the port is chosen at start (PORT=0): there is no address to send anyone to', () => {
    expect(loadConfig({ env: { NODE_ENV: 'development', PORT: '0' } }).server.redirectToPublicUrl).to.equal(false);
    expect(loadConfig({ env: { NODE_ENV: 'development', PORT: '3000' } }).server.redirectToPublicUrl).to.equal(true);
    expect(loadConfig({ env: { NODE_ENV: 'development', PORT: '0', PUBLIC_URL: 'http://print.example.edu' } }).server.redirectToPublicUrl).to.equal(true);
  });

  describe('on plain HTTP', () => {
    before(async () => {
      // The test configuration turns the redirect off (supertest's host is 127.0.0.1 and a random port).
      portal = await createTestPortal({ PUBLIC_URL: 'http://localhost:3000', REDIRECT_TO_PUBLIC_URL: 'true' });
    });

    it('sends a page asked for on another host name to the same path and query on PUBLIC_URL, before any cookie', async () => {
      const response = await supertest(portal.app).get('/login?next=%2Ftopup').set('Host', '127.0.0.1:3000').expect(307);
      expect(response.headers.location).to.equal('http://localhost:3000/login?next=%2Ftopup');
      expect(response.headers['set-cookie']).to.equal(undefined);
      await supertest(portal.app).head('/account').set('Host', 'recharge.local').expect(307).expect('Location', 'http://localhost:3000/account');
    });

    it('serves pages on the PUBLIC_URL host, whatever the case of its letters', async () => {
      await supertest(portal.app).get('/login').set('Host', 'localhost:3000').expect(200);
      await supertest(portal.app).get('/login').set('Host', 'LocalHost:3000').expect(200);
    });

    it('keeps a path that looks like another host, or a request line naming one, on PUBLIC_URL', async () => {
      const response = await supertest(portal.app).get('//evil.example/login').set('Host', '127.0.0.1:3000').expect(307);
      expect(response.headers.location).to.equal('http://localhost:3000/login');
      // "GET http://evil.example/x HTTP/1.1", the absolute form of a request line, as a proxy would send it.
      const absolute = await rawGet(portal, 'http://evil.example/account?x=1', '127.0.0.1:3000');
      expect(absolute.status).to.equal(307);
      expect(absolute.location).to.equal('http://localhost:3000/account?x=1');
    });

    it('compares the host name alone: the same name on another port is not sent round again', async () => {
      await supertest(portal.app).get('/login').set('Host', 'localhost:8080').expect(200);
      await supertest(portal.app).get('/login').set('Host', 'localhost').expect(200);
    });

    it('answers health checks, the print API and forms on any host name', async () => {
      await supertest(portal.app).get('/healthz').set('Host', '10.0.0.5:3000').expect(200);
      await supertest(portal.app).get('/api/v1/accounts/nobody').set('Host', '10.0.0.5:3000').expect(401);
      // A form posted elsewhere is not moved: it has no session or CSRF cookie there and is refused.
      await supertest(portal.app).post('/login').set('Host', '127.0.0.1:3000').type('form').send({ username: 'x', password: 'y' }).expect(403);
    });
  });

  describe('behind a TLS-terminating proxy', () => {
    before(async () => {
      await portal.cleanup();
      portal = await createTestPortal({ PUBLIC_URL: 'https://recharge.example.edu', TRUST_PROXY: '1', REDIRECT_TO_PUBLIC_URL: 'true' });
    });

    it('reads the host the proxy forwards, with or without a port (nginx\'s $host has none)', async () => {
      await supertest(portal.app).get('/login').set('Host', '127.0.0.1:3000').set('X-Forwarded-Host', 'recharge.example.edu').set('X-Forwarded-Proto', 'https').expect(200);
      await supertest(portal.app).get('/login').set('Host', 'recharge.example.edu:443').expect(200);
      await supertest(portal.app).get('/login').set('Host', '127.0.0.1:3000').set('X-Forwarded-Host', 'old-name.example.edu').expect(307).expect('Location', 'https://recharge.example.edu/login');
    });
  });
});
