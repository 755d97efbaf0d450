import type { User } from '../domain/people/users.js';
import type { Locale } from '../i18n/index.js';

/** What a sign-in waiting for the second factor will open once it is checked (web/sign-in/begin-session.ts). */
export interface PendingSecondFactor {
  userId: number;
  sessionVersion: number;
  method: string;
  remember: boolean;
  idToken?: string;
  returnTo: string;
  startedAt: number;
}

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
    /** Epoch ms of the last second-factor check in this session (sign-in, enrolment or step-up); the step-up window counts from here. */
    secondFactorAt: number;
    /** A sign-in whose password (or provider) was right, waiting for the person's second factor: nobody is signed in yet. */
    pendingSignIn: PendingSecondFactor;
    /** A TOTP app being added: its secret, sealed, until the person confirms it with a code. */
    totpEnrolment: { sealedSecret: string; startedAt: number };
    /** The WebAuthn challenge of a passkey being added or used, and what for. */
    webauthnChallenge: { challenge: string; purpose: 'register' | 'authenticate'; startedAt: number };
    /** A first passkey's recovery codes, kept for the one page that shows them (web/routes/passkeys.ts), which removes them. */
    newRecoveryCodes: { sealedCodes: string; issuedAt: number };
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
