import { z } from 'zod';
import { usageDebitInput, usageRefusalInput } from '../../services/print-api/print-api.js';
import { PROBLEM_MEDIA_TYPE, PROBLEM_TYPES, type ProblemType } from './problem.js';
import { accountSchema, debitSchema, problemSchema, problemTypeSchema, refusalSchema, transactionPageSchema } from './representations.js';

export const API_BASE = '/api/v1';
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
/** Entry ids are 32-bit integers in the database (PostgreSQL refuses larger values in a comparison). */
export const MAX_ENTRY_ID = 2_147_483_647;

/** A zod schema as JSON Schema 2020-12, OpenAPI 3.1's dialect; the `$schema` line belongs to documents, not components. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'output') {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io });
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });

function problems(...types: ProblemType[]): Record<string, { description: string; headers: Record<string, object>; content: object }> {
  const byStatus = new Map<number, ProblemType[]>();
  for (const type of [...types, 'unauthorized', 'internal-error'] as ProblemType[]) {
    byStatus.set(PROBLEM_TYPES[type], [...(byStatus.get(PROBLEM_TYPES[type]) ?? []), type]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, names]) => {
      const headers: Record<string, object> = {};
      if (status === 401) headers['WWW-Authenticate'] = { required: true, schema: { type: 'string' } };
      if (names.includes('request-in-progress')) headers['Retry-After'] = { description: 'For request-in-progress.', schema: { type: 'string' } };
      return [String(status), { description: `Problem: ${names.join(', ')}.`, headers, content: { [PROBLEM_MEDIA_TYPE]: { schema: ref('Problem') } } }];
    }),
  );
}

const username = { name: 'username', in: 'path', required: true, description: 'The person\'s login, as on the portal.', schema: { type: 'string', minLength: 1, maxLength: 100 } };
const reference = { name: 'reference', in: 'path', required: true, description: 'The job\'s reference given when it was debited.', schema: { type: 'string', minLength: 1, maxLength: 100 } };
const replayedHeader = {
  'Idempotent-Replayed': { description: '`true` when this is the saved response of an earlier request with the same key.', schema: { type: 'string', enum: ['true'] } },
};

/** Saved answers of a debit can come back as replays, errors included. */
function replayable(responses: ReturnType<typeof problems>): ReturnType<typeof problems> {
  return Object.fromEntries(Object.entries(responses).map(([status, response]) => [status, { ...response, headers: { ...response.headers, ...replayedHeader } }]));
}

/** The API's contract, served at /api/v1/openapi.json; the tests check every request and response against it. */
export function openApiDocument(publicUrl: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Recharge print-server API',
      version: '1.0.0',
      description:
        'Read a person\'s print account, debit a job (print, copy, scan, fax) exactly once, cancel it, record a job refused before printing, and list the account\'s transactions. ' +
        'Amounts are units with at most two decimals. Errors are RFC 9457 problem documents in the language of Accept-Language (fr or en). ' +
        'Authenticate with an API key an admin created for the print server: `Authorization: Bearer rk_…`.',
    },
    servers: [{ url: `${publicUrl}${API_BASE}` }],
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'A print-server API key (`rk_` and 43 characters), created on the admin pages.' } },
      schemas: {
        Account: jsonSchema(accountSchema),
        Debit: jsonSchema(debitSchema),
        DebitRequest: jsonSchema(usageDebitInput, 'input'),
        Refusal: jsonSchema(refusalSchema),
        RefusalRequest: jsonSchema(usageRefusalInput, 'input'),
        TransactionPage: jsonSchema(transactionPageSchema),
        Problem: jsonSchema(problemSchema),
        ProblemType: jsonSchema(problemTypeSchema),
      },
    },
    paths: {
      '/openapi.json': {
        get: { operationId: 'getOpenApi', summary: 'This document.', security: [], responses: { '200': { description: 'OpenAPI 3.1.', content: json({ type: 'object' }) } } },
      },
      '/problems/{type}': {
        get: {
          operationId: 'getProblemType',
          summary: 'What a problem type means.',
          security: [],
          parameters: [{ name: 'type', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'Its title and description.', content: json(ref('ProblemType')) },
            '404': { description: 'Problem: not-found.', content: { [PROBLEM_MEDIA_TYPE]: { schema: ref('Problem') } } },
          },
        },
      },
      '/accounts/{username}': {
        get: {
          operationId: 'getAccount',
          summary: 'A person\'s balance and status.',
          parameters: [username],
          responses: { '200': { description: 'The account.', content: json(ref('Account')) }, ...problems('account-not-found') },
        },
      },
      '/accounts/{username}/debits': {
        post: {
          operationId: 'debitUsage',
          summary: 'Debit a job, exactly once per Idempotency-Key.',
          description:
            'Retrying with the same Idempotency-Key and the same body returns the saved response (header Idempotent-Replayed) and debits nothing more, ' +
            'whatever the first outcome was (201, 402, 403, 404, 409 reference-in-use), for as long as the key is kept: RETENTION_API_IDEMPOTENCY_DAYS days (30 by default). ' +
            'The same key with another body is 422; while the first request runs, 409 with Retry-After.',
          parameters: [
            username,
            { name: 'Idempotency-Key', in: 'header', required: true, description: 'Unique per job, e.g. a UUID: 1 to 255 visible ASCII characters, bare or as a quoted string.', schema: { type: 'string', minLength: 1, maxLength: 257 } },
          ],
          requestBody: { required: true, content: json(ref('DebitRequest')) },
          responses: {
            '201': { description: 'Debited.', headers: replayedHeader, content: json(ref('Debit')) },
            ...replayable(problems(
              'invalid-request',
              'malformed-json',
              'idempotency-key-required',
              'insufficient-balance',
              'account-disabled',
              'account-not-found',
              'request-in-progress',
              'reference-in-use',
              'payload-too-large',
              'unsupported-media-type',
              'idempotency-key-reused',
            )),
          },
        },
      },
      '/accounts/{username}/refusals': {
        post: {
          operationId: 'recordRefusal',
          summary: 'Record a job refused before printing (too few units, account disabled), shown in the person\'s history; nothing is debited.',
          description:
            'Recorded once per reference of the API key: 201 the first time, then 200 with the refusal recorded then, whatever the body. ' +
            'A reference this key debited may be used too (debits and refusals are apart).',
          parameters: [username],
          requestBody: { required: true, content: json(ref('RefusalRequest')) },
          responses: {
            '201': { description: 'Recorded.', content: json(ref('Refusal')) },
            '200': { description: 'Recorded earlier with this reference.', content: json(ref('Refusal')) },
            ...problems('invalid-request', 'malformed-json', 'account-not-found', 'payload-too-large', 'unsupported-media-type'),
          },
        },
      },
      '/accounts/{username}/debits/{reference}': {
        get: {
          operationId: 'getDebit',
          summary: 'A debit this key made, by its reference.',
          parameters: [username, reference],
          responses: { '200': { description: 'The debit.', content: json(ref('Debit')) }, ...problems('account-not-found', 'debit-not-found') },
        },
      },
      '/accounts/{username}/debits/{reference}/cancel': {
        post: {
          operationId: 'cancelDebit',
          summary: 'Give a job\'s units back (a reversing transaction); safe to retry.',
          parameters: [username, reference],
          responses: { '200': { description: 'Cancelled (now or earlier).', content: json(ref('Debit')) }, ...problems('account-not-found', 'debit-not-found') },
        },
      },
      '/accounts/{username}/transactions': {
        get: {
          operationId: 'listTransactions',
          summary: 'The account\'s transactions, newest first, a page at a time.',
          parameters: [
            username,
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE } },
            { name: 'before', in: 'query', required: false, description: 'From the `next` link: entries older than this one.', schema: { type: 'integer', minimum: 1, maximum: MAX_ENTRY_ID } },
          ],
          responses: { '200': { description: 'One page.', content: json(ref('TransactionPage')) }, ...problems('invalid-request', 'account-not-found') },
        },
      },
    },
  };
}
