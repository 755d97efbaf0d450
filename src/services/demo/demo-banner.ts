import type { DemoData } from './demo.js';
import { DEMO_API_KEY, type DemoLogin } from './demo-logins.js';

/** The role a demo login is printed with: the desk's person is a `user` who may also draft quotes. */
const shownRole = (login: DemoLogin) => (login.quoteDesk ? 'desk' : login.role);

/**
 * The start banner's lines about the demo (`url`: where the portal answers): the logins, the print
 * servers' key, and what a tester types to try the quotes — the lookup page with the payable quote's
 * number and postcode, the quote the student pays in units, the desk's draft.
 */
export function demoBannerLines(url: string, { logins, quotes }: DemoData): string[] {
  const lines = ['Demo data is on. Log in with:', ...logins.map((login) => `  ${shownRole(login).padEnd(6)} ${login.username} / ${login.password}`), `Demo print-server API key: ${DEMO_API_KEY}`];
  if (quotes) {
    lines.push(
      'Demo quotes:',
      `  pay online without an account at ${url}/quotes/lookup with quote ${quotes.payable.number} and postcode ${quotes.payable.postcode}`,
      `  pay in units as ${quotes.forStudent.username}: ${url}/quotes/${quotes.forStudent.number}`,
      `  a draft to send from the desk: ${url}/desk/quotes/${quotes.draft.number}`,
    );
  }
  return lines;
}
