import { expect } from 'chai';
import fc from 'fast-check';
import { loadConfig } from '../../src/config.js';
import { AUDIT_FLOOR_DAYS, DOCUMENT_FILES_FLOOR_DAYS, retentionCutoffs, type RetentionPeriods } from '../../src/domain/retention/retention-periods.js';

const DAY_MS = 24 * 3600_000;

/** Periods anywhere in the ranges the configuration accepts. */
const periods = fc.record<RetentionPeriods>({
  unpaidOrdersDays: fc.integer({ min: 30, max: 36_500 }),
  webhooksDays: fc.integer({ min: 7, max: 36_500 }),
  mailsDays: fc.integer({ min: 30, max: 36_500 }),
  signInsDays: fc.integer({ min: 1, max: 36_500 }),
  apiIdempotencyDays: fc.integer({ min: 7, max: 36_500 }),
  auditDays: fc.integer({ min: 365, max: 36_500 }),
  familiarSourcesDays: fc.integer({ min: 90, max: 36_500 }),
  peopleImportsDays: fc.integer({ min: 1, max: 36_500 }),
  accountingYears: fc.integer({ min: 10, max: 100 }),
});
const instants = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true });

describe('retention periods', () => {
  it('never asks for a row the database refuses to delete: audit entries of a year, documents of 10 years, a day of margin', () => {
    fc.assert(
      fc.property(periods, instants, (chosen, now) => {
        const cutoffs = retentionCutoffs(chosen, now, 15);
        expect(cutoffs.audit.getTime()).to.be.at.most(now.getTime() - (AUDIT_FLOOR_DAYS + 1) * DAY_MS);
        expect(cutoffs.accountingDocuments.getTime()).to.be.at.most(now.getTime() - (DOCUMENT_FILES_FLOOR_DAYS + 1) * DAY_MS);
        // And at least the configured number of calendar years.
        const calendar = new Date(now);
        calendar.setUTCFullYear(calendar.getUTCFullYear() - chosen.accountingYears);
        expect(cutoffs.accountingDocuments.getTime()).to.be.at.most(calendar.getTime());
      }),
    );
  });

  it('keeps every kind at least its period, and a longer period never removes more', () => {
    fc.assert(
      fc.property(periods, periods, instants, (shorter, longer, now) => {
        const a = retentionCutoffs(shorter, now, 15);
        expect(a.unpaidOrders.getTime()).to.equal(now.getTime() - shorter.unpaidOrdersDays * DAY_MS);
        expect(a.mails.getTime()).to.equal(now.getTime() - shorter.mailsDays * DAY_MS);
        expect(a.signIns.getTime()).to.equal(now.getTime() - shorter.signInsDays * DAY_MS);
        expect(a.familiarSources).to.be.at.most(now.getTime() - 90 * DAY_MS);
        expect(a.sessions.getTime()).to.equal(now.getTime());
        const b = retentionCutoffs(longer, now, 15);
        expect(a.peopleImports.getTime()).to.equal(now.getTime() - shorter.peopleImportsDays * DAY_MS);
        for (const kind of ['unpaidOrders', 'webhooks', 'mails', 'signIns', 'apiIdempotency', 'audit', 'peopleImports', 'accountingDocuments'] as const) {
          const period = { unpaidOrders: 'unpaidOrdersDays', webhooks: 'webhooksDays', mails: 'mailsDays', signIns: 'signInsDays', apiIdempotency: 'apiIdempotencyDays', audit: 'auditDays', peopleImports: 'peopleImportsDays', accountingDocuments: 'accountingYears' }[kind] as keyof RetentionPeriods;
          if (longer[period] >= shorter[period]) expect(b[kind].getTime(), kind).to.be.at.most(a[kind].getTime());
        }
      }),
    );
  });

  it('counts the login throttle and quote look-ups over their own windows', () => {
    const now = new Date('2026-12-07T12:00:00Z');
    const cutoffs = retentionCutoffs(loadConfig({ env: { NODE_ENV: 'test' } }).retention, now, 15);
    expect(cutoffs.loginThrottleWindowStart).to.equal(now.getTime() - 15 * 60_000);
    expect(cutoffs.quoteLookupAttempts).to.equal(now.getTime() - DAY_MS);
    expect(cutoffs.signInKeys).to.equal(now.getTime());
  });

  it('has defaults within what the configuration accepts, and refuses a period below its floor', () => {
    const config = loadConfig({ env: { NODE_ENV: 'production', SESSION_SECRET: '9c1f5e02b7d84a63f0e2c9d17b5a48e36c0f1d2a7b9e84c35d6f0a1b2c3e4d5f', PAYPAL_ENV: 'live', PAYPAL_CLIENT_ID: 'a', PAYPAL_CLIENT_SECRET: 'b', PAYPAL_WEBHOOK_ID: 'c', SMTP_HOST: 'smtp.example.edu', MAIL_FROM: 'x@example.edu' } });
    expect(config.retention).to.include({ auditDays: 365, accountingYears: 10, unpaidOrdersDays: 90, intervalMinutes: 360 });
    expect(() => loadConfig({ env: { NODE_ENV: 'test', RETENTION_AUDIT_DAYS: '30' } })).to.throw(/retention\.auditDays \(RETENTION_AUDIT_DAYS\)/);
    expect(() => loadConfig({ env: { NODE_ENV: 'test', RETENTION_ACCOUNTING_YEARS: '5' } })).to.throw(/retention\.accountingYears/);
    expect(config.retention).to.include({ peopleImportsDays: 30 });
    expect(() => loadConfig({ env: { NODE_ENV: 'test', RETENTION_PEOPLE_IMPORTS_DAYS: '0' } })).to.throw(/retention\.peopleImportsDays/);
    expect(() => loadConfig({ env: { NODE_ENV: 'test', RETENTION_BATCH_SIZE: '10001' } })).to.throw(/retention\.batchSize/);
    expect(loadConfig({ env: { NODE_ENV: 'test', RETENTION_BATCH_SIZE: '10000' } }).retention.batchSize).to.equal(10_000);
  });
});
