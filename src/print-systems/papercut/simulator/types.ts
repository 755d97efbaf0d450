import type { XmlRpcValue } from '../xml-rpc.js';

export const SIMULATED_METHODS = ['api.isUserExists', 'api.getUserAccountBalance', 'api.adjustUserAccountBalance'] as const;
export type SimulatedMethod = (typeof SIMULATED_METHODS)[number];

/**
 * A fault to inject, for the next `times` calls (of `method`, or of any method), or until cleared.
 * - `unknown_user`: the person is unknown to PaperCut (isUserExists answers false, the others fault).
 * - `bad_token`, `not_allowed`: PaperCut's faults for a wrong token and a caller's address not allowed.
 * - `http500`, `timeout` (no answer ever: the client has to give up), `reset` (the connection is reset
 *   without an answer), `garbled` (HTTP 200 with an unreadable body): before the call is run, or, with
 *   `afterApplying`, once it has been (an adjustment is then in the balance and the log).
 */
export type SimulatorFault =
  | { type: 'unknown_user' | 'bad_token' | 'not_allowed'; method?: SimulatedMethod; times?: number }
  | { type: 'http500' | 'timeout' | 'reset' | 'garbled'; afterApplying?: boolean; method?: SimulatedMethod; times?: number };

/** How the simulator answered a call. */
export type CallAnswer = 'value' | 'fault' | 'malformed' | 'http500' | 'timeout' | 'reset' | 'garbled';

export interface ReceivedCall {
  at: Date;
  /** Null when the request was no readable methodCall. */
  method: string | null;
  params: XmlRpcValue[];
  answer: CallAnswer;
  /** An adjustment was applied to a balance. */
  applied: boolean;
}

/** One line of PaperCut's transaction log, as an adjustment writes it. */
export interface SimulatedTransaction {
  at: Date;
  username: string;
  /** '' for the built-in account. */
  accountName: string;
  amountHundredths: number;
  comment: string;
  balanceAfterHundredths: number;
}

export interface PaperCutSimulatorOptions {
  /** Default `sim-papercut-token`. */
  authToken?: string;
  /** People and the balance of their built-in account, in hundredths. */
  users?: Record<string, number>;
  now?: () => Date;
}

export interface PaperCutSimulator {
  /** Listens (port 0: any free port) and returns the XML-RPC endpoint's URL. */
  start(port?: number, host?: string): Promise<string>;
  stop(): Promise<void>;
  /** The XML-RPC endpoint, `http://host:port/rpc/api/xmlrpc`. */
  readonly url: string;
  readonly authToken: string;
  /** Creates the person (and the named personal account) when missing. */
  setBalance(username: string, hundredths: number, accountName?: string): void;
  removeUser(username: string): void;
  /** Undefined when the person (or the account) does not exist; without a name, the total of the person's accounts (as PaperCut reads it). */
  balanceOf(username: string, accountName?: string): number | undefined;
  setFault(fault: SimulatorFault): void;
  clearFaults(): void;
  /** Every request received on the XML-RPC endpoint, in order. */
  readonly calls: ReceivedCall[];
  /** Every adjustment applied, in order. */
  readonly transactions: SimulatedTransaction[];
}
