import { expect } from 'chai';
import { createTranslations } from '../../src/i18n/index.js';
import { lowBalanceNotices } from '../../src/services/low-balance/low-balance-notices.js';

describe('the low-balance mail', () => {
  const translations = createTranslations();
  const write = (locale: 'fr' | 'en') =>
    lowBalanceNotices['low_balance.crossed']!({ balance: 450, threshold: 500 }, translations(locale), { publicUrl: 'https://impression.univ.example', locale, timeZone: 'Europe/Paris' });

  it('says in French what is left and below which threshold, with the top-up link alone on its line', () => {
    const { subject, paragraphs } = write('fr');
    expect(subject).to.equal('Solde bas\u202f: il vous reste 4,50 unités');
    expect(paragraphs.flat()).to.include('Votre solde vient de passer sous le seuil que vous avez choisi (5,00 unités)\u202f: il vous reste 4,50 unités.');
    expect(paragraphs).to.deep.include(['Pour recharger votre compte\u202f:', 'https://impression.univ.example/topup']);
    expect(paragraphs).to.deep.include(['Pour changer le seuil ou désactiver cette alerte\u202f:', 'https://impression.univ.example/account/low-balance-alert']);
  });

  it('says the same in English', () => {
    const { subject, paragraphs } = write('en');
    expect(subject).to.equal('Low balance: 4.50 units left');
    expect(paragraphs).to.deep.include(['To top up your account:', 'https://impression.univ.example/topup']);
  });
});
