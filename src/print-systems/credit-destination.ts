import type { CreditDestinationKind } from '../domain/credit-transfers/transfers.js';

/** One transfer as a destination sends it. */
export interface TransferToSend {
  /** The same on every attempt (`recharge-transfer-<id>`): a receiver that deduplicates keys on it. */
  eventId: string;
  ledgerTransactionId: number;
  /** The ledger transaction's kind (top_up, reversal, adjustment, quote_payment). */
  transactionKind: string;
  /** The person's username in the portal, which is their name in the print system. */
  username: string;
  /** Hundredths of a unit, signed. */
  amount: number;
  /** What the print system's log shows: our transaction id and the order's number (domain transferComment). */
  comment: string;
  /** When the ledger posted it. */
  postedAt: Date;
}

export interface DestinationHealth {
  reachable: boolean;
  /** False when the destination answered that our credentials or address are refused. */
  credentialsAccepted: boolean | null;
  detail: string | null;
}

/**
 * A print system (or any other system) that receives the changes of people's balances the ledger
 * posts. Every failure is a PrintSystemError whose kind says whether the transfer can have been applied.
 */
export interface CreditDestination {
  kind: CreditDestinationKind;
  /** For admins: "PaperCut at print.example.edu". */
  label: string;
  /** The other side recognises a transfer sent twice by its event id, so an unknown outcome may be sent again. */
  deduplicates: boolean;
  send(transfer: TransferToSend): Promise<void>;
  /** The person's balance there, in hundredths; absent when the destination cannot tell. */
  readBalance?(username: string): Promise<number>;
  /** Whether the person has an account there; absent when the destination cannot tell. */
  personExists?(username: string): Promise<boolean>;
  /** Reachability and credentials, for the status page. */
  checkHealth(): Promise<DestinationHealth>;
}
