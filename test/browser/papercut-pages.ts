import { listTransfers } from '../../src/db/credit-transfers/transfer-repository.js';
import { newFormNonce } from '../../src/domain/shared/form-nonce.js';
import { createAdjustments } from '../../src/services/ledger/adjustments.js';
import type { PortalInBrowser } from './portal-in-browser.js';
import { payOnApprovalPage, placeOrder, type PortalPage } from './portal-pages.js';

/** The pages that change when credits go to PaperCut: each is checked in French and in English, like the others. */
export const PAPERCUT_PAGE_NAMES = ['papercut-account', 'papercut-topup', 'papercut-order-paid', 'papercut-admin-dashboard', 'papercut-admin-transfers', 'papercut-admin-transfer'] as const;
export type PaperCutPageName = (typeof PAPERCUT_PAGE_NAMES)[number];

/**
 * With the portal's credits going to the PaperCut simulator: as the student, a pack paid on the
 * simulator's approval page and its credit delivered to PaperCut; as an admin, a credit whose answer
 * PaperCut lost after applying it (so it waits, unknown, for a decision). Returns where each page is.
 */
export async function preparePaperCutPages(session: PortalInBrowser): Promise<Map<PaperCutPageName, PortalPage>> {
  const { portal } = session;
  const papercut = portal.papercut;
  const delivery = portal.printSystem?.delivery;
  if (!papercut || !delivery) throw new Error('the portal was started without PaperCut: startPortalInBrowser({}, { papercut: true })');
  const opened = await session.open({ width: 1280, as: 'etudiant' });
  let paid: string;
  try {
    paid = await placeOrder(opened.page, 'pack-10');
    await payOnApprovalPage(opened.page, paid);
  } finally {
    await opened.context.close();
  }
  await delivery.deliverDue();

  const admin = await portal.users.findUser('admin');
  if (!admin) throw new Error('no demo admin');
  papercut.setFault({ type: 'reset', afterApplying: true, method: 'api.adjustUserAccountBalance', times: 1 });
  await createAdjustments({ db: portal.db, clock: portal.clock }).adjust(admin, 'etudiant', { direction: 'credit', amount: '5', reason: 'Geste commercial : imprimante en panne', nonce: newFormNonce() });
  await delivery.deliverDue();
  const [unknown] = (await listTransfers(portal.db.knex, { state: 'unknown', offset: 0, limit: 1 })).transfers;
  if (!unknown) throw new Error('the lost answer left no unknown transfer');

  const pages: Record<PaperCutPageName, Omit<PortalPage, 'name'>> = {
    'papercut-account': { path: '/account', as: 'etudiant' },
    'papercut-topup': { path: '/topup', as: 'etudiant' },
    'papercut-order-paid': { path: paid, as: 'etudiant' },
    'papercut-admin-dashboard': { path: '/admin', as: 'admin' },
    'papercut-admin-transfers': { path: '/admin/transfers', as: 'admin' },
    'papercut-admin-transfer': { path: `/admin/transfers/${unknown.id}`, as: 'admin' },
  };
  return new Map(PAPERCUT_PAGE_NAMES.map((name) => [name, { name, ...pages[name] }]));
}
