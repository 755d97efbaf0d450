import { expect } from 'chai';
import { demoBannerLines } from '../../src/services/demo/demo-banner.js';
import { DEMO_API_KEY, DEMO_LOGINS } from '../../src/services/demo/demo-logins.js';

describe('the start banner in demo mode', () => {
  const quotes = { payable: { number: 'D-2026-000001', postcode: '75005' }, forStudent: { number: 'D-2026-000002', username: 'etudiant' }, draft: { number: 'D-2026-000003' } };

  it('prints each demo login with its role (the desk person as desk), the API key, and where and with what to try the quotes', () => {
    expect(demoBannerLines('http://localhost:3000', { logins: DEMO_LOGINS, quotes })).to.deep.equal([
      'Demo data is on. Log in with:',
      '  user   etudiant / etudiant-demo',
      '  admin  admin / admin-demo-2026',
      '  it     informatique / informatique-demo',
      '  desk   reprographie / reprographie-demo',
      `Demo print-server API key: ${DEMO_API_KEY}`,
      'Demo quotes:',
      '  pay online without an account at http://localhost:3000/quotes/lookup with quote D-2026-000001 and postcode 75005',
      '  pay in units as etudiant: http://localhost:3000/quotes/D-2026-000002',
      '  a draft to send from the desk: http://localhost:3000/desk/quotes/D-2026-000003',
    ]);
  });

  it('says nothing of quotes when the demo could not make them', () => {
    const lines = demoBannerLines('http://localhost:3000', { logins: DEMO_LOGINS, quotes: null });
    expect(lines.at(-1)).to.equal(`Demo print-server API key: ${DEMO_API_KEY}`);
    expect(lines.join('\n')).not.to.include('quote');
  });
});
