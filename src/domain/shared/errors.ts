/**
 * A rule of the domain was broken. `code` is stable: the web layer maps it to an HTTP status
 * and a translated message, the CLI prints `message`.
 */
export class DomainError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
