import type { User } from '../domain/people/users.js';
import type { Locale } from '../i18n/index.js';

declare module 'express-session' {
  interface SessionData {
    userId: number;
    /** The person's session version at login (see User.sessionVersion). */
    sessionVersion: number;
    /** Epoch ms of the login: the absolute timeout counts from here. */
    authenticatedAt: number;
    /** Epoch ms of the last request: the idle timeout counts from here. */
    lastSeenAt: number;
    /** The language the person picked, which outranks Accept-Language. */
    locale: Locale;
    /** `password` (the portal's own) or the id of the identity provider or directory the person signed in through. */
    signInMethod: string;
    /** OIDC: the ID token, the hint the provider's logout asks for. */
    idToken: string;
    /** IT is looking at the portal in this unpublished branding version. */
    brandingPreview: number;
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The signed-in person, set by loadSessionUser. */
      user?: User;
    }
  }
}
