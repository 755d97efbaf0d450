import { expect } from 'chai';
import { descriptionWording } from '../../src/domain/ledger/transaction-descriptions.js';
import { createTranslations } from '../../src/i18n/index.js';
import { describeTransaction } from '../../src/web/view-helpers.js';

describe('ledger descriptions in the reader’s language', () => {
  it('words the portal’s own descriptions, in French and English', () => {
    const fr = createTranslations()('fr');
    const en = createTranslations()('en');
    expect(describeTransaction(fr, 'welcome credit')).to.equal('Crédit de bienvenue');
    expect(describeTransaction(en, 'welcome credit')).to.equal('Welcome credit');
    expect(describeTransaction(fr, 'credit refund 12')).to.equal('Remboursement du crédit non utilisé (demande n° 12)');
    expect(describeTransaction(fr, 'R-2026-000123 refund')).to.equal('Remboursement de la commande R-2026-000123');
    expect(describeTransaction(en, 'R-2026-000123 reversal')).to.equal('Payment of order R-2026-000123 disputed with the bank');
  });

  it('shows any other description as stored: order numbers, batch names, an admin’s reason', () => {
    const fr = createTranslations()('fr');
    for (const stored of ['R-2026-000123', 'D-2026-0042', 'Accueil des nouveaux — 2027', 'Geste commercial: refund', 'credit refund x', null]) {
      expect(descriptionWording(stored)).to.equal(null);
      expect(describeTransaction(fr, stored)).to.equal(stored);
    }
  });
});
