import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a browser where someone signed in keeps its device token. */
export const DEVICE_TOKEN_DAYS = 180;

/**
 * Device tokens (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): given at each
 * sign-in, `<random id>.<HMAC(secret, username, id)>` tells later attempts for that username from that
 * browser apart from a guesser's at the same address. Only the server can make one, and one made for
 * a username is worthless for any other. One browser keeps the token of the last username signed in.
 */
export function deviceTokens(secret: string) {
  // "device-token" keeps these MACs apart from anything else signed with the same secret.
  const mac = (username: string, id: string) => createHmac('sha256', secret).update(`device-token\n${id}\n${username}`, 'utf8').digest();
  return {
    issue(username: string): string {
      const id = randomBytes(16).toString('base64url');
      return `${id}.${mac(username, id).toString('base64url')}`;
    },
    /** The device id of a token made for `username`; undefined for anything else (absent, forged, another username's). */
    deviceOf(token: string | undefined, username: string): string | undefined {
      const [id, signature, ...rest] = (token ?? '').split('.');
      if (!id || !signature || rest.length > 0) return undefined;
      const expected = mac(username, id);
      const given = Buffer.from(signature, 'base64url');
      return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
    },
  };
}

export type DeviceTokens = ReturnType<typeof deviceTokens>;
