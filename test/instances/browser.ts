import supertest from 'supertest';
import type { PortalProcess } from './portal-process.js';

/**
 * One person's browser behind a load balancer: it knows a single site (PUBLIC_URL) and keeps its
 * session cookie, while the test picks which instance answers each request.
 */
export class BalancedBrowser {
  /** The cookies of the site by name, as the browser sends them back (`name=value`). */
  readonly cookies = new Map<string, string>();

  async get(instance: PortalProcess, path: string): Promise<supertest.Response> {
    return this.remember(await this.send(supertest(instance.url).get(path)));
  }

  async post(instance: PortalProcess, path: string, form: Record<string, string>): Promise<supertest.Response> {
    return this.remember(await this.send(supertest(instance.url).post(path).type('form').send(form)));
  }

  private send(request: supertest.Test): supertest.Test {
    return this.cookies.size > 0 ? request.set('Cookie', [...this.cookies.values()].join('; ')) : request;
  }

  /** Keeps a cookie the answer sets and forgets one it clears (an expiry in the past), as a browser does. */
  private remember(response: supertest.Response): supertest.Response {
    const cookies = (response.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
    for (const cookie of cookies) {
      const [pair = '', ...attributes] = cookie.split(';').map((part) => part.trim());
      const name = pair.slice(0, pair.indexOf('='));
      const cleared = attributes.some((attribute) => /^expires=/i.test(attribute) && Date.parse(attribute.slice(8)) < Date.now());
      if (cleared) this.cookies.delete(name);
      else this.cookies.set(name, pair);
    }
    return response;
  }
}
