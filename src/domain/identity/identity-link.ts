import { DomainError } from '../shared/errors.js';

/** The column's size (user_identities.subject). */
export const SUBJECT_MAX_LENGTH = 512;

export type IdentityLinkErrorCode = 'invalid_subject' | 'unknown_provider' | 'user_not_found' | 'subject_taken' | 'provider_linked' | 'linked_meanwhile';

export class IdentityLinkError extends DomainError<IdentityLinkErrorCode> {
  constructor(
    code: IdentityLinkErrorCode,
    message: string,
    /** subject_taken: the username the identifier is linked to already, so that the admin knows where to look. */
    readonly linkedTo?: string,
  ) {
    super(code, message);
  }
}

/** An identifier as an admin typed it: trimmed, 1 to SUBJECT_MAX_LENGTH characters, compared as is (providers' identifiers are case-sensitive). */
export function validateSubject(typed: unknown): string {
  const subject = typeof typed === 'string' ? typed.trim() : '';
  if (subject.length === 0 || subject.length > SUBJECT_MAX_LENGTH) {
    throw new IdentityLinkError('invalid_subject', `the identifier must have 1 to ${SUBJECT_MAX_LENGTH} characters`);
  }
  return subject;
}
