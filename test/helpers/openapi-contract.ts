import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'chai';
import supertest from 'supertest';

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => void;

const API_BASE = '/api/v1';

type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}
interface Operation {
  operationId: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }>; headers?: Record<string, { required?: boolean }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
}

export interface ApiCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Under /api/v1, with its query string: `/accounts/etudiant?x=1`. */
  path: string;
  headers?: Record<string, string>;
  /** A value to send as JSON, or a string sent as it is (with the headers' Content-Type). */
  body?: unknown;
  /** Whether the request is meant to follow the contract (false for the tests of bad requests; 'unknown' for generated ones). */
  conforms?: boolean | 'unknown';
}

export interface ApiAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  text: string;
  /** Whether the document accepts the request that was sent. */
  requestConforms: boolean;
}

/**
 * The API's OpenAPI document as a test oracle: every call made through `call` is checked against it,
 * the request (path, query, headers, body: conforming unless the test says it is a bad one) and the
 * response (a documented status, its content type and schema). It remembers which documented answers
 * the tests produced, so that a suite can require all of them.
 */
export class ApiContract {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, multipleOfPrecision: 9 });
  private readonly validators = new Map<string, ValidateFunction>();
  readonly seen = new Set<string>();

  private constructor(readonly document: Document) {
    addFormats(this.ajv);
    this.ajv.addSchema(document as object, 'api');
  }

  /** Fetches the served document and checks it against OpenAPI 3.1's own schema. */
  static async load(baseUrl: string): Promise<ApiContract> {
    const response = await supertest(baseUrl).get(`${API_BASE}/openapi.json`).expect(200);
    const result = await new Validator().validate(response.body as Parameters<Validator['validate']>[0]);
    expect(result.valid, JSON.stringify(result.errors, null, 2)).to.equal(true);
    expect((response.body as { openapi: string }).openapi).to.match(/^3\.1\./);
    return new ApiContract(response.body as Document);
  }

  /** Every documented answer, as `operationId status`. */
  documentedAnswers(): string[] {
    return Object.values(this.document.paths).flatMap((item) =>
      Object.values(item).flatMap((operation) => Object.keys(operation.responses).map((status) => `${operation.operationId} ${status}`)),
    );
  }

  async call(baseUrl: string, call: ApiCall): Promise<ApiAnswer> {
    let request = supertest(baseUrl)[call.method.toLowerCase() as 'get'](`${API_BASE}${call.path}`);
    for (const [name, value] of Object.entries(call.headers ?? {})) request = request.set(name, value);
    if (call.body !== undefined) request = request.send(call.body as object);
    const response = await request;
    const answer = { status: response.status, headers: response.headers as Record<string, string>, body: response.body as unknown, text: response.text };
    return { ...answer, requestConforms: this.check(call, answer) };
  }

  /** Checks an exchange another client made (a print server's backend, seen through a relay) against the document. */
  verify(call: ApiCall, answer: Omit<ApiAnswer, 'requestConforms'>): boolean {
    return this.check(call, answer);
  }

  private validate(pointer: string, schema: Schema, data: unknown): string | null {
    let validator = this.validators.get(pointer);
    if (!validator) {
      validator = this.ajv.compile(schema);
      this.validators.set(pointer, validator);
    }
    return validator(data) ? null : this.ajv.errorsText(validator.errors);
  }

  private resolve(schema: Schema): Schema {
    const ref = schema.$ref;
    return typeof ref === 'string' ? { $ref: `api${ref}` } : schema;
  }

  private find(path: string): { template: string; params: Record<string, string> } | null {
    for (const template of Object.keys(this.document.paths)) {
      const names: string[] = [];
      const pattern = template.replace(/[.]/g, '\\.').replace(/\{(\w+)\}/g, (_match, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      const match = new RegExp(`^${pattern}$`).exec(path);
      if (!match) continue;
      try {
        return { template, params: Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(match[index + 1]!)])) };
      } catch {
        return null; // a parameter that does not decode names no documented resource
      }
    }
    return null;
  }

  /** Why the request breaks the contract, or an empty list. */
  private requestProblems(call: ApiCall, operation: Operation, params: Record<string, string>, query: URLSearchParams): string[] {
    const problems: string[] = [];
    const headers = Object.fromEntries(Object.entries(call.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
    const declared = operation.parameters ?? [];
    for (const parameter of declared) {
      const raw = parameter.in === 'path' ? params[parameter.name] : parameter.in === 'query' ? (query.get(parameter.name) ?? undefined) : headers[parameter.name.toLowerCase()];
      if (raw === undefined) {
        if (parameter.required) problems.push(`${parameter.in} ${parameter.name} is missing`);
        continue;
      }
      const value = parameter.schema.type === 'integer' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
      const error = this.validate(`${operation.operationId}/${parameter.name}`, parameter.schema, value);
      if (error) problems.push(`${parameter.in} ${parameter.name}: ${error}`);
    }
    for (const name of query.keys()) {
      if (!declared.some((parameter) => parameter.in === 'query' && parameter.name === name)) problems.push(`query ${name} is not documented`);
    }
    if (operation.security?.length !== 0 && !/^Bearer \S+$/.test(headers.authorization ?? '')) problems.push('no bearer credentials');
    if (operation.requestBody) {
      const type = (headers['content-type'] ?? (call.body !== undefined && typeof call.body !== 'string' ? 'application/json' : '')).split(';')[0]!.trim();
      const media = operation.requestBody.content[type];
      if (call.body === undefined) {
        if (operation.requestBody.required) problems.push('the body is missing');
      } else if (!media) {
        problems.push(`content type ${type} is not documented`);
      } else {
        let body = call.body;
        if (typeof body === 'string') {
          try {
            body = JSON.parse(body);
          } catch {
            problems.push('the body is not JSON');
          }
        }
        const error = this.validate(`${operation.operationId}/body`, this.resolve(media.schema), body);
        if (error) problems.push(`body: ${error}`);
      }
    } else if (call.body !== undefined) {
      problems.push('a body where none is documented');
    }
    return problems;
  }

  /** Asserts the exchange follows the document; returns whether the request conforms. */
  private check(call: ApiCall, answer: Omit<ApiAnswer, 'requestConforms'>): boolean {
    const [path = '', queryString = ''] = call.path.split('?');
    const query = new URLSearchParams(queryString);
    const found = this.find(path);
    const operation = found && this.document.paths[found.template]?.[call.method.toLowerCase()];
    const what = `${call.method} ${call.path} → ${answer.status}`;
    const requestProblems = operation ? this.requestProblems(call, operation, found.params, query) : ['no documented operation'];
    const conforms = call.conforms ?? true;
    if (conforms === true) expect(requestProblems, `${what}: the request breaks the contract`).to.deep.equal([]);
    if (conforms === false) expect(requestProblems, `${what}: a bad request that the contract allows`).to.not.deep.equal([]);

    const contentType = String(answer.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (!operation) {
      // Undocumented addresses are answered with the documented problem format.
      expect(answer.status, what).to.be.oneOf([401, 404]);
      expect(contentType, what).to.equal('application/problem+json');
      const error = this.validate('Problem', { $ref: 'api#/components/schemas/Problem' }, answer.body);
      expect(error, `${what}: ${error}`).to.equal(null);
      return false;
    }
    const documented = operation.responses[String(answer.status)];
    expect(documented, `${what}: status not documented for ${operation.operationId}`).to.not.equal(undefined);
    this.seen.add(`${operation.operationId} ${answer.status}`);
    const media = documented!.content?.[contentType];
    expect(media, `${what}: content type ${contentType} not documented`).to.not.equal(undefined);
    const error = this.validate(`${operation.operationId}/${answer.status}/${contentType}`, this.resolve(media!.schema), answer.body);
    expect(error, `${what}: the response breaks the contract: ${error}`).to.equal(null);
    for (const [header, definition] of Object.entries(documented!.headers ?? {})) {
      if (definition.required) expect(answer.headers[header.toLowerCase()], `${what}: header ${header}`).to.be.a('string');
    }
    return requestProblems.length === 0;
  }
}
