/** What the web layer reads of credit transfers as they are stored (no rule or transaction involved), so that web reaches the database through services only. */
export {
  countLatePendingTransfers,
  countTransfersByState,
  findTransfer,
  lastDeliveryAt,
  listTransferEvents,
  listTransfers,
  listTransfersOfTransactions,
  type CreditTransfer,
  type TransferEvent,
} from '../../db/credit-transfers/transfer-repository.js';
export { TRANSFER_STATES, type TransferState } from '../../domain/credit-transfers/transfers.js';
/** An order's postings, whose transfers its page shows. */
export { listOrderTransactionIds } from '../../db/checkout/order-repository.js';
