import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { decodeMethodCall, encodeFault, encodeMethodResponse, xmlDocumentText, XmlRpcFormatError, type XmlRpcCall } from '../xml-rpc.js';
import { SimulatedAccounts } from './accounts.js';
import { PAPERCUT_FAULTS, runCall, type ApiOutcome } from './api.js';
import { controlRouter } from './control-routes.js';
import { FaultBook } from './faults.js';
import type { CallAnswer, PaperCutSimulator, PaperCutSimulatorOptions, ReceivedCall } from './types.js';

export type { CallAnswer, PaperCutSimulator, PaperCutSimulatorOptions, ReceivedCall, SimulatedMethod, SimulatedTransaction, SimulatorFault } from './types.js';
export { PAPERCUT_FAULTS } from './api.js';

const XML_RPC_PATH = '/rpc/api/xmlrpc';
/** What Jetty, PaperCut's web server, shows for an internal error. */
const SERVER_ERROR_PAGE = '<html><head><title>Error 500 Server Error</title></head><body><h2>HTTP ERROR 500</h2><p>Server Error</p></body></html>';
/** An answer cut short: well-formed up to where it stops. */
const GARBLED_ANSWER = '<?xml version="1.0" encoding="UTF-8"?><methodResponse><params><param><value><boo';

/**
 * A stand-in for PaperCut NG/MF's XML-RPC web services (`api.isUserExists`, `api.getUserAccountBalance`,
 * `api.adjustUserAccountBalance`): people and balances in memory, PaperCut's faults, injected faults,
 * and a record of every call, so the portal's real client runs against it.
 */
export function createPaperCutSimulator(options: PaperCutSimulatorOptions = {}): PaperCutSimulator {
  const authToken = options.authToken ?? 'sim-papercut-token';
  const now = options.now ?? (() => new Date());
  const accounts = new SimulatedAccounts();
  for (const [username, hundredths] of Object.entries(options.users ?? {})) accounts.set(username, hundredths);
  const faults = new FaultBook();
  const calls: ReceivedCall[] = [];
  let server: Server | null = null;
  let endpoint: string | null = null;

  const simulator: PaperCutSimulator = {
    async start(port = 0, host = '127.0.0.1') {
      if (server) throw new Error('the PaperCut simulator is already started');
      const listening = createServer(app);
      server = listening;
      try {
        await new Promise<void>((resolve, reject) => {
          listening.once('error', reject);
          listening.listen(port, host, () => resolve());
        });
      } catch (error) {
        // A port in use: not started, so it may be started again.
        server = null;
        throw error;
      }
      const { port: actualPort } = listening.address() as AddressInfo;
      endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}${XML_RPC_PATH}`;
      return endpoint;
    },

    async stop() {
      const running = server;
      if (!running) return;
      // Calls held without an answer (the timeout fault) end with the connections.
      await new Promise<void>((resolve) => {
        running.close(() => resolve());
        running.closeAllConnections();
      });
      // Started again later (PaperCut back after an outage), with its people, balances and calls kept.
      server = null;
      endpoint = null;
    },

    get url() {
      if (endpoint === null) throw new Error('the PaperCut simulator has not started');
      return endpoint;
    },
    authToken,
    setBalance: (username, hundredths, accountName) => accounts.set(username, hundredths, accountName),
    removeUser: (username) => accounts.remove(username),
    balanceOf: (username, accountName) => accounts.balance(username, accountName),
    setFault: (fault) => faults.set(fault),
    clearFaults: () => faults.clear(),
    get calls() {
      return [...calls];
    },
    get transactions() {
      return [...accounts.transactions];
    },
  };

  const answerCall = (request: Request, response: Response) => {
    const received: ReceivedCall = { at: now(), method: null, params: [], answer: 'malformed', applied: false };
    calls.push(received);
    let call: XmlRpcCall;
    try {
      call = decodeMethodCall(xmlDocumentText(Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)));
    } catch (error) {
      if (!(error instanceof XmlRpcFormatError)) throw error;
      return void sendXml(response, encodeFault({ faultCode: 0, faultString: `Failed to parse XML-RPC request: ${error.message}` }));
    }
    received.method = call.method;
    received.params = call.params;
    const fault = faults.take(call.method);
    if (fault?.type === 'not_allowed') return void answer(received, response, { kind: 'fault', fault: { ...PAPERCUT_FAULTS.notAllowed } });
    const transport = fault?.type === 'http500' || fault?.type === 'timeout' || fault?.type === 'reset' || fault?.type === 'garbled' ? fault : null;
    if (transport && !transport.afterApplying) return void failTransport(received, request, response, transport.type);
    const outcome = runCall(call, { accounts, authToken, now, hidesUser: fault?.type === 'unknown_user', refusesToken: fault?.type === 'bad_token' });
    received.applied = outcome.kind === 'value' && outcome.applied;
    if (transport) return void failTransport(received, request, response, transport.type);
    answer(received, response, outcome);
  };

  const app = express();
  app.disable('x-powered-by');
  app.post(XML_RPC_PATH, express.raw({ type: () => true, limit: '64kb' }), answerCall);
  app.use(controlRouter(simulator));
  return simulator;
}

function answer(received: ReceivedCall, response: Response, outcome: ApiOutcome): void {
  received.answer = outcome.kind;
  sendXml(response, outcome.kind === 'value' ? encodeMethodResponse(outcome.value) : encodeFault(outcome.fault));
}

function failTransport(received: ReceivedCall, request: Request, response: Response, how: Extract<CallAnswer, 'http500' | 'timeout' | 'reset' | 'garbled'>): void {
  received.answer = how;
  if (how === 'http500') response.status(500).type('text/html').send(SERVER_ERROR_PAGE);
  else if (how === 'garbled') sendXml(response, GARBLED_ANSWER);
  else if (how === 'reset') request.socket.resetAndDestroy();
  // timeout: no answer; the connection stays open until the client gives up or the simulator stops.
}

function sendXml(response: Response, xml: string): void {
  response.status(200).type('text/xml; charset=utf-8').send(xml);
}
