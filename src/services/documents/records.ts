/** What the web layer reads or writes of documents as it is stored (no rule or transaction involved), so that web reaches the database through services only. */
export { findDocument, listOrderDocuments } from '../../db/documents/document-repository.js';
