import { once } from 'node:events';
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import { createPaperCutClient, type PaperCutClient, type PaperCutClientOptions } from '../../src/print-systems/papercut/client.js';
import { createPaperCutSimulator, type PaperCutSimulator, type SimulatorFault } from '../../src/print-systems/papercut/simulator/index.js';
import { decodeMethodResponse, encodeMethodCall, encodeMethodResponse, XmlRpcDouble } from '../../src/print-systems/papercut/xml-rpc.js';
import { PrintSystemError } from '../../src/print-systems/print-system-error.js';
import { freePort } from '../helpers/free-port.js';

async function failure(promise: Promise<unknown>): Promise<PrintSystemError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(PrintSystemError);
    return error as PrintSystemError;
  }
  throw new Error('expected the call to fail');
}

/** A server of the test's own, for what the simulator never does; closed after the test. */
const ownServers: Server[] = [];
async function listen(server: Server): Promise<number> {
  ownServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
const httpServer = async (handler: RequestListener) => `http://127.0.0.1:${await listen(createHttpServer(handler))}/rpc/api/xmlrpc`;
const ownSockets: Socket[] = [];
const tcpServer = (onConnection: (socket: Socket) => void) =>
  listen(
    createTcpServer((socket) => {
      ownSockets.push(socket);
      onConnection(socket);
    }),
  );

describe('PaperCut client against the simulator', () => {
  let simulator: PaperCutSimulator;
  let client: PaperCutClient;
  const clientFor = (options: Partial<PaperCutClientOptions> = {}) => createPaperCutClient({ url: simulator.url, authToken: simulator.authToken, timeoutMs: 2000, ...options });

  beforeEach(async () => {
    simulator = createPaperCutSimulator({ users: { alice: 1250 } });
    await simulator.start();
    client = clientFor();
  });

  afterEach(async () => {
    await simulator.stop();
    for (const socket of ownSockets.splice(0)) socket.destroy();
    for (const server of ownServers.splice(0)) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) (server as ReturnType<typeof createHttpServer>).closeAllConnections();
      });
    }
  });

  describe('calls', () => {
    it('asks whether a person exists, the token first', async () => {
      expect(await client.userExists('alice')).to.equal(true);
      expect(await client.userExists('nobody')).to.equal(false);
      expect(simulator.calls.map(({ method, params, answer }) => ({ method, params, answer }))).to.deep.equal([
        { method: 'api.isUserExists', params: [simulator.authToken, 'alice'], answer: 'value' },
        { method: 'api.isUserExists', params: [simulator.authToken, 'nobody'], answer: 'value' },
      ]);
    });

    it('reads the balance in hundredths: of the built-in account, of a named one, and large ones Java writes with an exponent', async () => {
      expect(await client.balance('alice')).to.equal(1250);
      simulator.setBalance('alice', 1_234_567_890);
      expect(await client.balance('alice')).to.equal(1_234_567_890);
      simulator.setBalance('alice', -113);
      expect(await client.balance('alice')).to.equal(-113);
      simulator.setBalance('alice', 300, 'Impressions');
      expect(await clientFor({ accountName: 'Impressions' }).balance('alice')).to.equal(300);
      expect(await client.balance('alice')).to.equal(187);
      expect(simulator.calls.at(-1)?.params).to.deep.equal([simulator.authToken, 'alice', '']);
    });

    it('credits and takes back once each, with the comment, the amount sent as a double', async () => {
      await client.adjust('alice', 1000, 'Recharge R-000042 transaction 7');
      await client.adjust('alice', -250, 'Recharge refund R-000042 transaction 9');
      expect(simulator.balanceOf('alice')).to.equal(2000);
      expect(simulator.transactions.map(({ username, accountName, amountHundredths, comment }) => ({ username, accountName, amountHundredths, comment }))).to.deep.equal([
        { username: 'alice', accountName: '', amountHundredths: 1000, comment: 'Recharge R-000042 transaction 7' },
        { username: 'alice', accountName: '', amountHundredths: -250, comment: 'Recharge refund R-000042 transaction 9' },
      ]);
      expect(simulator.calls[0]?.params).to.deep.equal([simulator.authToken, 'alice', new XmlRpcDouble('10.00'), 'Recharge R-000042 transaction 7', '']);
    });

    it('credits the named personal account when one is configured', async () => {
      simulator.setBalance('alice', 0, 'Impressions');
      await clientFor({ accountName: 'Impressions' }).adjust('alice', 500, 'R-1');
      expect([simulator.balanceOf('alice', 'Impressions'), simulator.balanceOf('alice', '')]).to.deep.equal([500, 1750]);
    });

    it('sends no adjustment of zero, of a fraction of a hundredth, beyond what a double keeps, or that cannot be written; each a fault that was not applied', async () => {
      for (const [amount, comment] of [[0, 'R-1'], [12.5, 'R-1'], [Number.NaN, 'R-1'], [100_000_000_001, 'R-1'], [1000, 'R-1 \ud83d']] as const) {
        const error = await failure(client.adjust('alice', amount, comment));
        expect([error.kind, error.details.reason], `${amount} ${comment}`).to.deep.equal(['definite_fault', 'refused']);
      }
      expect(simulator.calls).to.deep.equal([]);
    });

    it('adds PaperCut’s path to a bare server URL', async () => {
      expect(await clientFor({ url: new URL(simulator.url).origin }).balance('alice')).to.equal(1250);
    });

    it('refuses a configuration that cannot work', () => {
      const valid = { url: simulator.url, authToken: 'token', timeoutMs: 1000 };
      for (const [options, message] of [
        [{ url: 'papercut:9191' }, 'must be http or https'],
        [{ url: 'not a url' }, 'is not a URL'],
        [{ url: 'https://admin:secret@print.example.edu:9192/' }, 'must not carry credentials'],
        [{ authToken: '' }, 'token is empty'],
        [{ timeoutMs: 0 }, 'positive number of milliseconds'],
      ] as const) {
        expect(() => createPaperCutClient({ ...valid, ...options }), message).to.throw(message);
      }
    });
  });

  describe('definite faults: PaperCut refused, nothing was applied', () => {
    const expectDefinite = (error: PrintSystemError, reason: string) => {
      expect([error.kind, error.details.reason], error.message).to.deep.equal(['definite_fault', reason]);
    };

    it('a person unknown to PaperCut', async () => {
      const error = await failure(client.adjust('nobody', 1000, 'R-1'));
      expectDefinite(error, 'unknown_user');
      expect([error.details.faultCode, error.details.faultString]).to.deep.equal([262, 'User cannot be found']);
      expectDefinite(await failure(client.balance('nobody')), 'unknown_user');
      expect(simulator.transactions).to.deep.equal([]);
    });

    it('a person PaperCut no longer knows (the unknown_user fault)', async () => {
      simulator.setFault({ type: 'unknown_user' });
      expect(await client.userExists('alice')).to.equal(false);
      expectDefinite(await failure(client.adjust('alice', 1000, 'R-1')), 'unknown_user');
      expect(simulator.balanceOf('alice')).to.equal(1250);
    });

    it('a wrong token, and a token PaperCut no longer accepts', async () => {
      expectDefinite(await failure(clientFor({ authToken: 'not-the-token' }).adjust('alice', 1000, 'R-1')), 'access_denied');
      simulator.setFault({ type: 'bad_token' });
      expectDefinite(await failure(client.adjust('alice', 1000, 'R-1')), 'access_denied');
      expect(simulator.balanceOf('alice')).to.equal(1250);
    });

    it('a caller whose address is not allowed', async () => {
      simulator.setFault({ type: 'not_allowed' });
      const error = await failure(client.adjust('alice', 1000, 'R-1'));
      expectDefinite(error, 'access_denied');
      expect(error.message).to.include('Your IP address is not allowed to access the Web Services API');
      expect(simulator.balanceOf('alice')).to.equal(1250);
    });

    it('an HTTP refusal before the API: a wrong path, a redirect (the setup to mend, then retried like a refused token)', async () => {
      const wrongPath = await failure(clientFor({ url: `${new URL(simulator.url).origin}/rpc/api/other` }).adjust('alice', 1000, 'R-1'));
      expect([wrongPath.kind, wrongPath.details.httpStatus, wrongPath.details.reason]).to.deep.equal(['definite_fault', 404, 'access_denied']);
      const url = await httpServer((_request, response) => response.writeHead(302, { Location: 'https://print.example.edu:9192/rpc/api/xmlrpc' }).end());
      const redirected = await failure(clientFor({ url }).adjust('alice', 1000, 'R-1'));
      expect([redirected.kind, redirected.details.httpStatus, redirected.details.reason]).to.deep.equal(['definite_fault', 302, 'access_denied']);
      expect(redirected.message).to.include('https://print.example.edu:9192');
      expect(simulator.balanceOf('alice')).to.equal(1250);
    });

    it('but a client error a proxy may give after forwarding (a 409, a 429, an unknown 4xx) is an unknown outcome', async () => {
      for (const status of [408, 409, 429, 499]) {
        const url = await httpServer((_request, response) => response.writeHead(status).end());
        expect((await failure(clientFor({ url }).adjust('alice', 1000, 'R-1'))).kind, String(status)).to.equal('unknown_outcome');
      }
    });
  });

  describe('not sent: no connection was made, nothing left', () => {
    const expectNotSent = (error: PrintSystemError) => expect(error.kind, error.message).to.equal('not_sent');

    it('connection refused', async () => {
      const error = await failure(clientFor({ url: `http://127.0.0.1:${await freePort()}/rpc/api/xmlrpc` }).adjust('alice', 1000, 'R-1'));
      expectNotSent(error);
      expect(error.details.errno).to.equal('ECONNREFUSED');
    });

    it('a host name that does not resolve', async () => {
      expectNotSent(await failure(clientFor({ url: 'http://papercut.invalid:9191/rpc/api/xmlrpc' }).adjust('alice', 1000, 'R-1')));
    });

    it('a TLS handshake that fails or never ends, where the same closed connection over plain HTTP is an unknown outcome', async () => {
      const closing = await tcpServer((socket) => socket.destroy());
      expectNotSent(await failure(clientFor({ url: `https://127.0.0.1:${closing}/rpc/api/xmlrpc` }).adjust('alice', 1000, 'R-1')));
      expect((await failure(clientFor({ url: `http://127.0.0.1:${closing}/rpc/api/xmlrpc` }).adjust('alice', 1000, 'R-1'))).kind).to.equal('unknown_outcome');
      const silent = await tcpServer(() => undefined);
      const timedOut = await failure(clientFor({ url: `https://127.0.0.1:${silent}/rpc/api/xmlrpc`, timeoutMs: 300 }).adjust('alice', 1000, 'R-1'));
      expectNotSent(timedOut);
      expect(timedOut.details.errno).to.equal('ETIMEDOUT');
    });
  });

  describe('unknown outcome: the request was sent and no readable answer came', () => {
    const lostAnswers: SimulatorFault['type'][] = ['timeout', 'reset', 'garbled', 'http500'];

    for (const type of lostAnswers) {
      it(`the answer lost after PaperCut applied the adjustment (${type}): unknown, though PaperCut shows it applied, once`, async () => {
        simulator.setFault({ type, afterApplying: true, times: 1 } as SimulatorFault);
        const error = await failure(clientFor({ timeoutMs: 500 }).adjust('alice', 1000, 'R-000042 transaction 7'));
        expect(error.kind, error.message).to.equal('unknown_outcome');
        expect(simulator.balanceOf('alice')).to.equal(2250);
        expect(simulator.transactions.map(({ comment }) => comment)).to.deep.equal(['R-000042 transaction 7']);
        expect(simulator.calls.map(({ answer, applied }) => ({ answer, applied }))).to.deep.equal([{ answer: type, applied: true }]);
      });

      it(`the same failure before PaperCut applied anything (${type}) looks the same to the client: only PaperCut knows`, async () => {
        simulator.setFault({ type, times: 1 } as SimulatorFault);
        expect((await failure(clientFor({ timeoutMs: 500 }).adjust('alice', 1000, 'R-1'))).kind).to.equal('unknown_outcome');
        expect([simulator.balanceOf('alice'), simulator.transactions.length]).to.deep.equal([1250, 0]);
      });
    }

    it('honours its timeout', async () => {
      simulator.setFault({ type: 'timeout' });
      const started = performance.now();
      const error = await failure(clientFor({ timeoutMs: 300 }).balance('alice'));
      const elapsed = performance.now() - started;
      expect([error.kind, error.details.errno]).to.deep.equal(['unknown_outcome', 'ETIMEDOUT']);
      expect(elapsed).to.be.within(290, 1500);
    });

    it('answers PaperCut never gives: too long, of the wrong type, cut off in the middle', async () => {
      const tooLong = await httpServer((_request, response) => response.writeHead(200, { 'Content-Type': 'text/xml' }).end(encodeMethodResponse('x'.repeat(200_000))));
      expect((await failure(clientFor({ url: tooLong }).balance('alice'))).message).to.include('longer than');
      const wrongType = await httpServer((_request, response) => response.writeHead(200, { 'Content-Type': 'text/xml' }).end(encodeMethodResponse('yes')));
      expect((await failure(clientFor({ url: wrongType }).userExists('alice'))).kind).to.equal('unknown_outcome');
      const cutOff = await httpServer((_request, response) => {
        response.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': '400' }).write('<?xml version="1.0"?><methodResponse>');
        setTimeout(() => response.socket?.destroy(), 20);
      });
      expect((await failure(clientFor({ url: cutOff }).adjust('alice', 1000, 'R-1'))).kind).to.equal('unknown_outcome');
    });
  });

  describe('the simulator', () => {
    const post = async (body: string) => {
      const response = await fetch(simulator.url, { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body });
      return decodeMethodResponse(await response.text());
    };

    it('starts again after a stop on the same port, its balances and calls kept (PaperCut back after an outage)', async () => {
      await client.adjust('alice', 1000, 'R-1');
      const port = Number(new URL(simulator.url).port);
      await simulator.stop();
      expect((await failure(client.adjust('alice', 1000, 'R-2'))).kind).to.equal('not_sent');
      await simulator.start(port);
      await client.adjust('alice', 1000, 'R-3');
      expect(simulator.balanceOf('alice')).to.equal(3250);
      expect(simulator.transactions.map((transaction) => transaction.comment)).to.deep.equal(['R-1', 'R-3']);
    });

    it('may be started again after its port was taken (PaperCut restarted once the port is free)', async () => {
      const port = Number(new URL(simulator.url).port);
      await simulator.stop();
      const squatter = createTcpServer().listen(port, '127.0.0.1');
      await once(squatter, 'listening');
      const refused = await simulator.start(port).then(
        () => null,
        (error: NodeJS.ErrnoException) => error.code,
      );
      expect(refused).to.equal('EADDRINUSE');
      await new Promise((resolve) => squatter.close(resolve));
      await simulator.start(port);
      expect(await client.userExists('alice')).to.equal(true);
    });

    it('faults a wrong signature as PaperCut does: an int amount misses the Java method', async () => {
      const answer = await post(encodeMethodCall('api.adjustUserAccountBalance', [simulator.authToken, 'alice', 10, 'R-1', '']));
      expect(answer.ok ? null : answer.fault.faultCode).to.equal(-1);
      expect(answer.ok ? '' : answer.fault.faultString).to.equal(
        'java.lang.NoSuchMethodException: biz.papercut.pcng.webservices.xmlrpc.ApiRPCHandler.adjustUserAccountBalance(java.lang.String, java.lang.String, java.lang.Integer, java.lang.String, java.lang.String)',
      );
      expect(simulator.transactions).to.deep.equal([]);
    });

    it('records a request that is no methodCall, and answers it with a fault', async () => {
      const answer = await post('hello');
      expect(answer.ok).to.equal(false);
      expect(simulator.calls.map(({ method, answer: how }) => ({ method, how }))).to.deep.equal([{ method: null, how: 'malformed' }]);
    });

    it('uses a fault up after `times` calls of its method, and keeps one without `times` until cleared', async () => {
      simulator.setFault({ type: 'garbled', method: 'api.getUserAccountBalance', times: 2 });
      expect(await client.userExists('alice')).to.equal(true);
      for (let call = 0; call < 2; call += 1) expect((await failure(client.balance('alice'))).kind).to.equal('unknown_outcome');
      expect(await client.balance('alice')).to.equal(1250);
      simulator.setFault({ type: 'bad_token' });
      for (let call = 0; call < 3; call += 1) expect((await failure(client.userExists('alice'))).details.reason).to.equal('access_denied');
      simulator.clearFaults();
      expect(await client.userExists('alice')).to.equal(true);
    });

    it('is driven over HTTP by its control API: people, faults, calls and transactions', async () => {
      const origin = new URL(simulator.url).origin;
      const control = (method: string, path: string, body?: unknown) =>
        fetch(`${origin}/simulator${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      expect(await (await control('PUT', '/users/bob', { balance: '7.50' })).json()).to.deep.equal({ username: 'bob', balance: '7.50' });
      expect((await control('PUT', '/users/bob', { balance: '7,50' })).status).to.equal(400);
      expect((await control('POST', '/faults', { fault: { type: 'explode' } })).status).to.equal(400);
      expect((await control('POST', '/faults', { fault: { type: 'not_allowed', afterApplying: true } })).status).to.equal(400);
      expect((await control('POST', '/faults', { fault: { type: 'reset', afterApplying: true, method: 'api.adjustUserAccountBalance', times: 1 } })).status).to.equal(204);
      expect((await failure(client.adjust('bob', 250, 'R-2'))).kind).to.equal('unknown_outcome');
      expect(simulator.balanceOf('bob')).to.equal(1000);
      const { calls } = (await (await control('GET', '/calls')).json()) as { calls: Array<{ method: string; answer: string; applied: boolean }> };
      expect(calls.map(({ method, answer, applied }) => ({ method, answer, applied }))).to.deep.equal([{ method: 'api.adjustUserAccountBalance', answer: 'reset', applied: true }]);
      const { transactions } = (await (await control('GET', '/transactions')).json()) as { transactions: Array<{ comment: string }> };
      expect(transactions.map(({ comment }) => comment)).to.deep.equal(['R-2']);
      expect((await control('DELETE', '/users/bob')).status).to.equal(204);
      expect(await client.userExists('bob')).to.equal(false);
    });
  });
});

