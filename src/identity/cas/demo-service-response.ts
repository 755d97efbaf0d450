import type { DemoCasPerson } from './demo-people.js';
import { escapeMarkup } from './markup.js';
import { CAS_NAMESPACE } from './protocol.js';

/** The failure codes of CAS 3.0.3 the demo server answers with. */
export type ValidationFailureCode = 'INVALID_REQUEST' | 'INVALID_TICKET' | 'INVALID_SERVICE';

const wrap = (content: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<cas:serviceResponse xmlns:cas="${CAS_NAMESPACE}">\n${content}\n</cas:serviceResponse>\n`;

/** `cas:authenticationSuccess` with the person's attributes, each value of a repeated attribute in its own element. */
export function successResponse(person: DemoCasPerson): string {
  const attributes = Object.entries(person.attributes).flatMap(([name, values]) =>
    (typeof values === 'string' ? [values] : values).map((value) => `      <cas:${name}>${escapeMarkup(value)}</cas:${name}>`),
  );
  return wrap(`  <cas:authenticationSuccess>\n    <cas:user>${escapeMarkup(person.user)}</cas:user>\n    <cas:attributes>\n${attributes.join('\n')}\n    </cas:attributes>\n  </cas:authenticationSuccess>`);
}

export function failureResponse(code: ValidationFailureCode, message: string): string {
  return wrap(`  <cas:authenticationFailure code="${code}">${escapeMarkup(message)}</cas:authenticationFailure>`);
}

/** Attribute names become element names: only plain XML names are accepted. */
export const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
