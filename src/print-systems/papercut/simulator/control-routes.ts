import express, { type Router } from 'express';
import { decimalText } from '../../../domain/shared/decimal.js';
import { hundredthsOf } from '../amounts.js';
import { XmlRpcDouble } from '../xml-rpc.js';
import { parseFault } from './faults.js';
import type { PaperCutSimulator } from './types.js';

const AMOUNT = /^-?\d{1,9}(\.\d{1,2})?$/;

/**
 * The control API for people running `npm run papercut-sim` by hand: the simulator's own methods over
 * HTTP, without authentication. It belongs to the simulator's server only, never to the portal.
 */
export function controlRouter(simulator: PaperCutSimulator): Router {
  const router = express.Router();
  router.use('/simulator', express.json({ limit: '16kb' }));

  router.post('/simulator/faults', (request, response) => {
    try {
      simulator.setFault(parseFault((request.body as { fault?: unknown } | undefined)?.fault));
    } catch (error) {
      return void response.status(400).json({ error: (error as Error).message });
    }
    response.status(204).end();
  });

  router.delete('/simulator/faults', (_request, response) => {
    simulator.clearFaults();
    response.status(204).end();
  });

  router.put('/simulator/users/:username', (request, response) => {
    const { balance, accountName } = (request.body ?? {}) as { balance?: unknown; accountName?: unknown };
    if (typeof balance !== 'string' || !AMOUNT.test(balance)) return void response.status(400).json({ error: 'balance must be an amount like "12.50"' });
    if (accountName !== undefined && typeof accountName !== 'string') return void response.status(400).json({ error: 'accountName must be a string' });
    const username = String(request.params.username);
    simulator.setBalance(username, hundredthsOf(new XmlRpcDouble(balance)) as number, accountName);
    response.json({ username, balance: decimalText(simulator.balanceOf(username) as number) });
  });

  router.delete('/simulator/users/:username', (request, response) => {
    simulator.removeUser(String(request.params.username));
    response.status(204).end();
  });

  router.get('/simulator/calls', (_request, response) => {
    response.json({ calls: simulator.calls });
  });

  router.get('/simulator/transactions', (_request, response) => {
    response.json({ transactions: simulator.transactions });
  });

  return router;
}
