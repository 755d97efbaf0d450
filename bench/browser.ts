export interface Page {
  status: number;
  url: string;
  /** Where a redirect points, resolved against the page's URL. */
  location: string | null;
  text: string;
  /** The body's size in bytes. */
  bytes: number;
}

/**
 * What a browser does that the benchmark needs, with fetch: cookies kept per host, forms posted
 * urlencoded, redirects left to the caller (each hop is a request to time and check).
 */
export class Browser {
  private readonly cookies = new Map<string, Map<string, string>>();

  async get(url: string): Promise<Page> {
    return this.send(url, { method: 'GET' });
  }

  async post(url: string, form: Record<string, string>): Promise<Page> {
    return this.send(url, { method: 'POST', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  /** The Cookie header this browser sends to `url`'s host. */
  cookieHeader(url: string): string {
    const jar = this.cookies.get(new URL(url).host);
    return jar ? [...jar].map(([name, value]) => `${name}=${value}`).join('; ') : '';
  }

  private async send(url: string, init: { method: string; body?: URLSearchParams; headers?: Record<string, string> }): Promise<Page> {
    const cookie = this.cookieHeader(url);
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, ...(cookie ? { cookie } : {}), 'accept-language': 'en' } });
    this.keepCookies(url, response.headers.getSetCookie());
    const body = Buffer.from(await response.arrayBuffer());
    const location = response.headers.get('location');
    return { status: response.status, url, location: location && new URL(location, url).toString(), text: body.toString('utf8'), bytes: body.length };
  }

  private keepCookies(url: string, setCookies: string[]): void {
    const host = new URL(url).host;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    for (const line of setCookies) {
      const [pair = ''] = line.split(';');
      const separator = pair.indexOf('=');
      if (separator > 0) jar.set(pair.slice(0, separator).trim(), pair.slice(separator + 1).trim());
    }
    this.cookies.set(host, jar);
  }
}

/** The synchronizer token a portal form carries. */
export function csrfTokenOf(page: Page): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
  if (!token) throw new Error(`no CSRF token on ${page.url} (status ${page.status})`);
  return token;
}

/** Throws unless the page answered `status` (and, for a redirect, went to a path matching `to`). */
export function expectStatus(page: Page, status: number, to?: RegExp): Page {
  if (page.status !== status || (to && !to.test(page.location ?? ''))) {
    throw new Error(`${page.url} answered ${page.status}${page.location ? ` → ${page.location}` : ''}, expected ${status}${to ? ` → ${to}` : ''}`);
  }
  return page;
}

/**
 * Logs in through the form as a person does: the login page (its token), the form, then the account
 * page it redirects to, whose forms carry the token of the new session.
 */
export async function logIn(baseUrl: string, username: string, password: string): Promise<{ browser: Browser; csrf: string }> {
  const browser = new Browser();
  const form = expectStatus(await browser.get(`${baseUrl}/login`), 200);
  expectStatus(await browser.post(`${baseUrl}/login`, { _csrf: csrfTokenOf(form), username, password }), 303, /\/account$/);
  const account = expectStatus(await browser.get(`${baseUrl}/account`), 200);
  return { browser, csrf: csrfTokenOf(account) };
}
