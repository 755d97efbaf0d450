/** What the web layer reads or writes of checkout as it is stored (no rule or transaction involved), so that web reaches the database through services only. */
export { countOrders, searchOrders } from '../../db/checkout/order-admin-repository.js';
export { findOrder } from '../../db/checkout/order-repository.js';
