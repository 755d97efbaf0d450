import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';

/** The problems `loadConfig` names when it refuses `env`; fails the test when it accepts it. */
export function configProblems(env: NodeJS.ProcessEnv, configDir?: string): string[] {
  try {
    loadConfig({ env, configDir });
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

/** A production configuration that starts: a random session secret, live PayPal credentials, a mail server and a real sender. */
export const PRODUCTION_ENV = {
  NODE_ENV: 'production',
  SESSION_SECRET: '9c1f5e02b7d84a63f0e2c9d17b5a48e36c0f1d2a7b9e84c35d6f0a1b2c3e4d5f',
  PAYPAL_ENV: 'live',
  PAYPAL_CLIENT_ID: 'client-id',
  PAYPAL_CLIENT_SECRET: 'client-secret',
  PAYPAL_WEBHOOK_ID: 'WH-ID',
  SMTP_HOST: 'smtp.example.edu',
  MAIL_FROM: 'Impressions <impressions@example.edu>',
} as const;
