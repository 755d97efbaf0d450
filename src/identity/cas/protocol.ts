/** What the CAS protocol (Apereo's specification, 3.0.3) fixes, shared by the client and the demo server. */

/** The namespace of every element in a validation answer (`cas:serviceResponse`…). */
export const CAS_NAMESPACE = 'http://www.yale.edu/tp/cas';

/**
 * A service ticket: `ST-` then letters, digits and dashes, 256 characters at most. Proxy tickets
 * (`PT-`) are refused: the portal asks for no proxy granting ticket and accepts no proxy chain.
 */
export const SERVICE_TICKET = /^ST-[A-Za-z0-9-]{1,253}$/;

/** How long a service ticket lives (the specification recommends five minutes at most). */
export const TICKET_LIFETIME_MS = 5 * 60_000;
