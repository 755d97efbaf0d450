import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { configProblems, PRODUCTION_ENV } from '../helpers/config-problems.js';

const PRODUCTION = PRODUCTION_ENV;
const WEBHOOK_SECRET = 'f3a91c0e5d7b24680a1c3e5f7092b4d6';
const DEVELOPMENT = { NODE_ENV: 'development' };

describe('configuration of the credit destination', () => {
  it('needs a URL and a secret of at least 32 characters for the webhook', () => {
    expect(configProblems({ ...DEVELOPMENT, CREDIT_DESTINATION: 'webhook' })).to.deep.equal([
      'credits.webhook.url (CREDIT_WEBHOOK_URL): is required with CREDIT_DESTINATION=webhook',
      'credits.webhook.secret (CREDIT_WEBHOOK_SECRET): is required with CREDIT_DESTINATION=webhook',
    ]);
    expect(configProblems({ ...DEVELOPMENT, CREDIT_DESTINATION: 'webhook', CREDIT_WEBHOOK_URL: 'https://print.example.edu/credits', CREDIT_WEBHOOK_SECRET: 'short' })).to.deep.equal([
      'credits.webhook.secret (CREDIT_WEBHOOK_SECRET): must be at least 32 characters',
    ]);
    const credits = loadConfig({ env: { ...DEVELOPMENT, CREDIT_DESTINATION: 'webhook', CREDIT_WEBHOOK_URL: 'https://print.example.edu/credits', CREDIT_WEBHOOK_SECRET: WEBHOOK_SECRET } }).credits;
    expect(credits.webhook).to.deep.equal({ url: 'https://print.example.edu/credits', secret: WEBHOOK_SECRET });
  });

  it('needs PaperCut\'s URL and web services token', () => {
    expect(configProblems({ ...DEVELOPMENT, CREDIT_DESTINATION: 'papercut' })).to.deep.equal([
      'credits.papercut.url (PAPERCUT_URL): is required with CREDIT_DESTINATION=papercut',
      'credits.papercut.authToken (PAPERCUT_AUTH_TOKEN): is required with CREDIT_DESTINATION=papercut',
    ]);
    const papercut = loadConfig({ env: { ...DEVELOPMENT, CREDIT_DESTINATION: 'papercut', PAPERCUT_URL: 'https://print.example.edu:9192', PAPERCUT_AUTH_TOKEN: 'token' } }).credits.papercut;
    expect(papercut).to.include({ url: 'https://print.example.edu:9192', authToken: 'token' });
  });

  it('keeps the delivery timer in production when credits go to a print system: retries need it', () => {
    const papercut = { CREDIT_DESTINATION: 'papercut', PAPERCUT_URL: 'https://print.example.edu:9192', PAPERCUT_AUTH_TOKEN: 'token' };
    expect(configProblems({ ...PRODUCTION, ...papercut, CREDIT_DELIVERY_INTERVAL_SECONDS: '0' })).to.deep.equal([
      'credits.deliveryIntervalSeconds (CREDIT_DELIVERY_INTERVAL_SECONDS): must be above 0 in production when credits go to a print system: retries need the timer',
    ]);
    expect(loadConfig({ env: { ...PRODUCTION, CREDIT_DELIVERY_INTERVAL_SECONDS: '0' } }).credits.deliveryIntervalSeconds).to.equal(0);
  });

  it('refuses the PaperCut simulator in production unless demos are allowed there', () => {
    expect(configProblems({ ...PRODUCTION, CREDIT_DESTINATION: 'papercut-sim' })).to.deep.equal([
      'credits.destination (CREDIT_DESTINATION): the PaperCut simulator is refused in production unless ALLOW_DEMO_IN_PRODUCTION=true',
    ]);
    expect(loadConfig({ env: { ...PRODUCTION, CREDIT_DESTINATION: 'papercut-sim', ALLOW_DEMO_IN_PRODUCTION: 'true' } }).credits.destination).to.equal('papercut-sim');
    expect(loadConfig({ env: { ...DEVELOPMENT, CREDIT_DESTINATION: 'papercut-sim' } }).credits.destination).to.equal('papercut-sim');
  });

  it('reaches the destination only over https in production, where the token or the signed credits would cross the network', () => {
    const webhook = { CREDIT_DESTINATION: 'webhook', CREDIT_WEBHOOK_SECRET: WEBHOOK_SECRET };
    const papercut = { CREDIT_DESTINATION: 'papercut', PAPERCUT_AUTH_TOKEN: 'token' };
    expect(configProblems({ ...PRODUCTION, ...webhook, CREDIT_WEBHOOK_URL: 'http://print.example.edu/credits' })).to.deep.equal([
      'credits.webhook.url (CREDIT_WEBHOOK_URL): must be https:// in production: the token or signed credits would cross the network in clear',
    ]);
    expect(configProblems({ ...PRODUCTION, ...papercut, PAPERCUT_URL: 'http://print.example.edu:9191' })).to.deep.equal([
      'credits.papercut.url (PAPERCUT_URL): must be https:// in production: the token or signed credits would cross the network in clear',
    ]);
    expect(loadConfig({ env: { ...PRODUCTION, ...webhook, CREDIT_WEBHOOK_URL: 'https://print.example.edu/credits' } }).credits.destination).to.equal('webhook');
    expect(loadConfig({ env: { ...PRODUCTION, ...papercut, PAPERCUT_URL: 'https://print.example.edu:9192' } }).credits.destination).to.equal('papercut');
    // Outside production a receiver on the same machine or network may speak plain http.
    expect(loadConfig({ env: { ...DEVELOPMENT, ...webhook, CREDIT_WEBHOOK_URL: 'http://localhost:8080/credits' } }).credits.webhook.url).to.equal('http://localhost:8080/credits');
  });
});
