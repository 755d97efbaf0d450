import type { Response } from 'express';
import type { ZodError } from 'zod';
import type { Translate } from '../../i18n/index.js';

/** Every problem type the API answers with (RFC 9457), and its status. */
export const PROBLEM_TYPES = {
  'invalid-request': 400,
  'malformed-json': 400,
  'idempotency-key-required': 400,
  unauthorized: 401,
  'insufficient-balance': 402,
  'account-disabled': 403,
  'not-found': 404,
  'account-not-found': 404,
  'debit-not-found': 404,
  'request-in-progress': 409,
  'reference-in-use': 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'idempotency-key-reused': 422,
  'internal-error': 500,
} as const;

export type ProblemType = keyof typeof PROBLEM_TYPES;

export const isProblemType = (value: string): value is ProblemType => Object.hasOwn(PROBLEM_TYPES, value);

/** A field that failed validation: where it is in the request (JSON Pointer, RFC 6901) and why. */
export interface FieldError {
  pointer: string;
  detail: string;
}

/** Thrown by the API's routes; the API's error handler answers it as application/problem+json. */
export class ApiProblem extends Error {
  constructor(
    readonly type: ProblemType,
    /** Values for the translated `detail`. */
    readonly values: Record<string, string | number> = {},
    readonly errors: FieldError[] = [],
  ) {
    super(type);
    this.name = 'ApiProblem';
  }

  get status(): number {
    return PROBLEM_TYPES[this.type];
  }
}

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** Where a problem type is explained: `GET` it for its title and description. */
export const problemTypeUri = (publicUrl: string, type: ProblemType) => `${publicUrl}/api/v1/problems/${type}`;

/** The problem document, in the reader's language (Accept-Language). */
export function problemDocument(problem: ApiProblem, { t, publicUrl, instance }: { t: Translate; publicUrl: string; instance: string }) {
  return {
    type: problemTypeUri(publicUrl, problem.type),
    title: t(`api.problems.${problem.type}.title`),
    status: problem.status,
    detail: t(`api.problems.${problem.type}.detail`, problem.values),
    instance,
    ...(problem.errors.length > 0 ? { errors: problem.errors } : {}),
  };
}

export function sendProblem(response: Response, problem: ApiProblem, context: { t: Translate; publicUrl: string; instance: string }): void {
  if (problem.type === 'unauthorized') response.setHeader('WWW-Authenticate', 'Bearer realm="recharge-api"');
  if (problem.type === 'request-in-progress') response.setHeader('Retry-After', '1');
  response.status(problem.status).type(PROBLEM_MEDIA_TYPE).send(JSON.stringify(problemDocument(problem, context)));
}

/** RFC 6901: `/pages`, with `~` and `/` escaped. */
const pointerOf = (path: ReadonlyArray<PropertyKey>) => path.map((part) => `/${String(part).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/** The bounds a zod issue names, for the translated message. */
function limitsOf(issue: ZodError['issues'][number]): Record<string, string> {
  const { minimum, maximum, expected } = issue as { minimum?: unknown; maximum?: unknown; expected?: unknown };
  return { minimum: String(minimum ?? ''), maximum: String(maximum ?? ''), expected: String(expected ?? '') };
}

/** "above 0" and "at least 1" read differently. */
const messageOf = (issue: ZodError['issues'][number]) =>
  (issue.code === 'too_small' || issue.code === 'too_big') && issue.inclusive === false ? `${issue.code}_exclusive` : issue.code;

/** A refused body or query: each field by its JSON Pointer, with why in the reader's language. */
export function invalidRequest(error: ZodError, t: Translate): ApiProblem {
  const fieldErrors = error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ pointer: pointerOf([...issue.path, key]), detail: t('api.fields.unrecognized_keys') }))
      : [{ pointer: pointerOf(issue.path), detail: t(`api.fields.${messageOf(issue)}`, limitsOf(issue)) }],
  );
  // One message per field and reason: `0.001` breaks two rules that say the same thing.
  const distinct = fieldErrors.filter((error, index) => fieldErrors.findIndex((other) => other.pointer === error.pointer && other.detail === error.detail) === index);
  return new ApiProblem('invalid-request', {}, distinct);
}
