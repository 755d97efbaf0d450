/** What the web layer reads or writes of pricing as it is stored (no rule or transaction involved), so that web reaches the database through services only. */
export { loadPriceList, loadPriceListVersion, type PriceListDraft } from '../../db/pricing/price-list-repository.js';
export { currentTerms, findTermsVersion, listTermsVersions, type TermsVersion } from '../../db/pricing/terms-repository.js';
