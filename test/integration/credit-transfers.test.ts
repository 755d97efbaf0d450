import { expect } from 'chai';
import { listTransferEvents, listTransfers } from '../../src/db/credit-transfers/transfer-repository.js';
import { seedDemoData } from '../../src/services/demo/demo.js';
import { createTestPortal } from '../helpers/portal.js';
import { orderSentToPayPal, pathOf, useShop, type Shop } from '../helpers/topup.js';

describe('Credits transferred to PaperCut', () => {
  let shop: Shop;
  useShop((opened) => (shop = opened), {}, { papercut: { users: { camille: 250 } } });

  it('a paid top-up reaches PaperCut once, with its transaction and order in the comment', async () => {
    const { portal, agent } = shop;
    const { number, paypalOrderId } = await orderSentToPayPal(shop);
    await agent.get(pathOf(portal.simulator.approve(paypalOrderId)));
    const { transfers } = await listTransfers(portal.db.knex, { offset: 0, limit: 10 });
    expect(transfers).to.have.length(1);
    expect(transfers[0]).to.include({ state: 'pending', username: 'camille', destination: 'papercut' });
    const counts = await portal.printSystem!.delivery.deliverDue();
    expect(counts).to.deep.equal({ delivered: 1, retrying: 0, parked: 0, unknown: 0 });
    const papercut = portal.papercut!;
    expect(papercut.transactions).to.have.length(1);
    expect(papercut.transactions[0]!.amountHundredths).to.equal(transfers[0]!.amount);
    expect(papercut.transactions[0]!.comment).to.equal(`Recharge #${transfers[0]!.ledgerTransactionId} ${number}`);
    expect(papercut.balanceOf('camille')).to.equal(250 + transfers[0]!.amount);
    // Delivering again finds nothing to do.
    expect(await portal.printSystem!.delivery.deliverDue()).to.deep.equal({ delivered: 0, retrying: 0, parked: 0, unknown: 0 });
    const events = await listTransferEvents(portal.db.knex, transfers[0]!.id);
    expect(events.map((event) => event.event)).to.deep.equal(['attempt', 'delivered']);
    expect(events[0]!.balanceBefore).to.equal(250);
  });
});

describe('Credits of the demo history, with PaperCut down at the first start', () => {
  it('are retried, not parked: their give-up time counts from the seeding, not from the dates of the history', async () => {
    const portal = await createTestPortal({}, { papercut: { users: { etudiant: 0 } } });
    try {
      await seedDemoData({ db: portal.db, clock: portal.clock, users: portal.users });
      await portal.papercut!.stop();
      const counts = await portal.printSystem!.delivery.deliverDue();
      const { transfers } = await listTransfers(portal.db.knex, { offset: 0, limit: 100 });
      expect(transfers.length).to.be.greaterThan(1);
      expect(counts).to.deep.equal({ delivered: 0, retrying: transfers.length, parked: 0, unknown: 0 });
      expect(transfers.every((transfer) => transfer.state === 'pending' && transfer.attempts === 1)).to.equal(true);
    } finally {
      await portal.cleanup();
    }
  });
});
