import { expect } from 'chai';
import { Secret, TOTP } from 'otpauth';
import type supertest from 'supertest';
import { csrfTokenFrom } from './portal.js';

type Agent = ReturnType<typeof supertest.agent>;

/** What an authenticator app shows for `secret` at `now` (RFC 6238, as the portal enrols it). */
export const totpCodeAt = (secret: string, now: Date) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: now.getTime() });

/** The key the enrolment page shows under the QR code, as an app would take it typed. */
export function secretOnPage(html: string): string {
  const match = /class="totp-qr__secret">([A-Z2-7 ]+)</.exec(html);
  expect(match, 'the TOTP key on the enrolment page').to.not.equal(null);
  return match![1]!.replace(/ /g, '');
}

/** The recovery codes a page shows once. */
export const recoveryCodesOn = (html: string) => [...html.matchAll(/<li><code>([0-9A-Z]{5}-[0-9A-Z]{5})<\/code><\/li>/g)].map((match) => match[1]!);

/**
 * Adds a TOTP app to the signed-in person's account through the pages, as a person with a phone
 * would: the key read from the page, the code of `now`. Returns the key and the recovery codes shown
 * (none after the first factor).
 */
export async function enrolTotp(agent: Agent, now: Date, name = 'Téléphone'): Promise<{ secret: string; recoveryCodes: string[] }> {
  const page = await agent.get('/account/security/totp').expect(200);
  const secret = secretOnPage(page.text);
  const answer = await agent.post('/account/security/totp').type('form').send({ _csrf: csrfTokenFrom(page.text), name, code: totpCodeAt(secret, now) });
  expect(answer.status, answer.text.slice(0, 300)).to.be.oneOf([200, 303]);
  return { secret, recoveryCodes: answer.status === 200 ? recoveryCodesOn(answer.text) : [] };
}

/** Sends a code to the check page (the sign-in's second step or a step-up); returns the answer. */
export async function sendCode(agent: Agent, kind: 'totp' | 'recovery', code: string, returnTo = '/') {
  const page = await agent.get(`/login/second-factor?returnTo=${encodeURIComponent(returnTo)}`);
  expect(page.status, 'the check page').to.equal(200);
  return agent.post(`/login/second-factor/${kind}`).type('form').send({ _csrf: csrfTokenFrom(page.text), code, returnTo });
}
