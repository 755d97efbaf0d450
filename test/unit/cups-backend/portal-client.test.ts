import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPortalClient, type DebitRequest } from '../../../src/cups-backend/portal-client.js';
import { freePort } from '../../helpers/free-port.js';

const problem = (type: string, status: number) => ({ type: `https://recharge.example.org/api/v1/problems/${type}`, title: type, status, detail: `about ${type}`, instance: '/api/v1/x' });
const debit: DebitRequest = { category: 'print', units: 0.3, pages: 3, reference: 'print1:b112:7', printer: 'b112', colour: false, duplex: true, afterPrinting: true };

describe('CUPS backend: portal client', () => {
  let server: Server;
  let url: string;
  let answer: (response: ServerResponse) => void;
  const requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
  const answerWith = (status: number, body: unknown, type = 'application/json') => {
    answer = (response) => response.writeHead(status, { 'Content-Type': type }).end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const client = (timeoutMs = 2_000) => createPortalClient({ portalUrl: url, apiKey: 'rk_test', timeoutMs });

  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
        answer(response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => (requests.length = 0));
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads an account with the key, in English, the balance in hundredths', async () => {
    answerWith(200, { username: 'alice', displayName: 'Alice', status: 'active', balance: -1.5, allowNegative: true });
    expect(await client().account('Alice Smith')).to.deep.equal({ outcome: 'ok', value: { username: 'alice', disabled: false, balance: -150, allowNegative: true } });
    expect(requests[0]).to.deep.include({ method: 'GET', url: '/api/v1/accounts/Alice%20Smith' });
    expect(requests[0]?.headers).to.include({ authorization: 'Bearer rk_test', 'accept-language': 'en' });
  });

  const debited = { reference: debit.reference, category: 'print', units: 0.3, pages: 3, printer: 'b112', colour: false, duplex: true, status: 'debited', createdAt: '2026-12-07T10:00:00.000Z', cancelledAt: null, account: { username: 'alice', balance: 9.7 } };

  it('sends a debit with its Idempotency-Key and body', async () => {
    answerWith(201, debited);
    expect((await client().debit('alice', debit, 'print1:b112:7')).outcome).to.equal('ok');
    expect(requests[0]).to.deep.include({ method: 'POST', url: '/api/v1/accounts/alice/debits' });
    expect(requests[0]?.headers).to.include({ 'idempotency-key': 'print1:b112:7', 'content-type': 'application/json' });
    expect(JSON.parse(requests[0]?.body ?? '')).to.deep.equal(debit);
  });

  it('tells not found from a definitive refusal, with the problem\'s type', async () => {
    answerWith(404, problem('account-not-found', 404), 'application/problem+json');
    expect(await client().account('nobody')).to.deep.equal({ outcome: 'not-found', problemType: 'account-not-found' });
    for (const [type, status] of [['insufficient-balance', 402], ['reference-in-use', 409], ['idempotency-key-reused', 422], ['invalid-request', 400], ['unauthorized', 401]] as const) {
      answerWith(status, problem(type, status), 'application/problem+json');
      expect(await client().debit('alice', debit, 'k'), type).to.deep.equal({ outcome: 'refused', status, problemType: type, detail: `about ${type}` });
    }
  });

  it('takes 5xx, 429 and a request in progress for "try later"', async () => {
    for (const [status, body] of [[500, problem('internal-error', 500)], [503, '<html>Bad gateway</html>'], [429, ''], [409, problem('request-in-progress', 409)]] as const) {
      answerWith(status, body);
      expect((await client().debit('alice', debit, 'k')).outcome, String(status)).to.equal('unreachable');
    }
  });

  it('takes another 404, or an answer that is not the API\'s, for a foreign answer: neither a person unknown nor "try later"', async () => {
    answerWith(404, problem('not-found', 404), 'application/problem+json');
    expect((await client().account('alice')).outcome).to.equal('foreign');
    answerWith(404, '<html>Not Found</html>', 'text/html');
    expect((await client().debit('alice', debit, 'k')).outcome).to.equal('foreign');
    answerWith(200, '<html>Sign in to the Wi-Fi</html>', 'text/html');
    expect((await client().account('alice')).outcome).to.equal('foreign');
  });

  it('reads a debit by its reference', async () => {
    answerWith(200, debited);
    expect(await client().findDebit('alice', 'print1:b1/2:7')).to.deep.equal({ outcome: 'ok', value: { reference: 'print1:b112:7', units: 0.3, pages: 3, printer: 'b112', colour: false, duplex: true, account: { username: 'alice' } } });
    expect(requests[0]).to.deep.include({ method: 'GET', url: '/api/v1/accounts/alice/debits/print1%3Ab1%2F2%3A7' });
    answerWith(404, problem('debit-not-found', 404), 'application/problem+json');
    expect((await client().findDebit('alice', 'print1:b112:7')).outcome).to.equal('foreign');
  });

  it('takes a 2xx to a debit that is not this debit (a maintenance page, another reference) for "try later", never for sent', async () => {
    for (const [status, body, type] of [[200, '<html>Back soon</html>', 'text/html'], [200, {}, 'application/json'], [201, { ...debited, reference: 'print1:b112:8' }, 'application/json']] as const) {
      answerWith(status, body, type);
      expect(await client().debit('alice', debit, 'print1:b112:7')).to.deep.equal({ outcome: 'unreachable', reason: 'the answer is not this job\'s Recharge debit' });
    }
  });

  it('takes no answer in time, or no connection, for "try later"', async () => {
    answer = () => {};
    expect(await client(200).account('alice')).to.deep.equal({ outcome: 'unreachable', reason: 'no answer within 0.2 s' });
    const closed = createPortalClient({ portalUrl: `http://127.0.0.1:${await freePort()}`, apiKey: 'rk_test', timeoutMs: 2_000 });
    expect(await closed.account('alice')).to.deep.equal({ outcome: 'unreachable', reason: 'ECONNREFUSED' });
  });
});
