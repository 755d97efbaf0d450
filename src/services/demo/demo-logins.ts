import type { Role } from '../../domain/people/users.js';
import { DEMO_CAS_PEOPLE } from '../../identity/cas/demo-people.js';

/*
 * The demo credentials the README publishes, in a module of their own: production checks at every
 * start that none of them still works (demo-credentials.ts) without loading the seeding (demo.ts).
 */

export interface DemoLogin {
  username: string;
  password: string;
  displayName: string;
  email: string;
  role: Role;
  /** May draft and send quotes at the reprography desk (users.quote_desk). */
  quoteDesk: boolean;
}

/** Printed at start in demo mode; never seeded in production unless explicitly allowed. */
export const DEMO_LOGINS: readonly DemoLogin[] = [
  { username: 'etudiant', password: 'etudiant-demo', displayName: 'Camille Martin', email: 'camille.martin@example.edu', role: 'user', quoteDesk: false },
  { username: 'admin', password: 'admin-demo-2026', displayName: 'Alex Dupont', email: 'admin@example.edu', role: 'admin', quoteDesk: false },
  { username: 'informatique', password: 'informatique-demo', displayName: 'Sam Leroy', email: 'informatique@example.edu', role: 'it', quoteDesk: false },
  { username: 'reprographie', password: 'reprographie-demo', displayName: 'Dominique Laurent', email: 'dominique.laurent@example.edu', role: 'user', quoteDesk: true },
];

/**
 * The demo print servers' key, for trying the print-server API: public like the demo passwords, and
 * only ever seeded with the demo data.
 */
export const DEMO_API_KEY = 'rk_demoPrintServerKeyForTheReadmeExamples-2026';

/**
 * Who the built-in PaperCut simulator knows with CREDIT_DESTINATION=papercut-sim: the demo logins and the
 * demo institution's people (their CAS user is their username), as a PaperCut synchronised with the same
 * directory would. Anyone else is unknown to it, and cannot top up.
 */
export const DEMO_PAPERCUT_PEOPLE: readonly string[] = [...DEMO_LOGINS.map((login) => login.username), ...DEMO_CAS_PEOPLE.map((person) => person.user)];
