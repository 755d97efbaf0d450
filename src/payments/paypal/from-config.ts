import type { Config } from '../../config.js';
import type { PaymentGateway } from '../gateway.js';
import { createPayPalGateway, PAYPAL_HOSTS } from './gateway.js';
import { PAYPAL_CERTIFICATE_ORIGINS } from './webhook-verifier.js';

/** The simulator's default credentials (see src/payments/paypal/simulator). */
export const SIMULATOR_CREDENTIALS = { clientId: 'sim-client-id', clientSecret: 'sim-client-secret', webhookId: 'SIM-WEBHOOK-ID' } as const;

/**
 * The gateway the configuration asks for: PayPal live or sandbox, or the simulator at
 * `simulatorBaseUrl` (started by the portal in demo mode, or elsewhere and named by PAYPAL_API_BASE_URL).
 */
export function createGatewayFromConfig(payments: Config['payments'], simulatorBaseUrl?: string): PaymentGateway {
  const common = { timeoutMs: payments.timeoutMs };
  if (payments.provider === 'simulator') {
    const baseUrl = payments.apiBaseUrl ?? simulatorBaseUrl ?? `http://127.0.0.1:${payments.simulatorPort}`;
    const origin = new URL(baseUrl).origin;
    const credentials = {
      clientId: payments.clientId ?? SIMULATOR_CREDENTIALS.clientId,
      clientSecret: payments.clientSecret ?? SIMULATOR_CREDENTIALS.clientSecret,
      webhookId: payments.webhookId ?? SIMULATOR_CREDENTIALS.webhookId,
    };
    return createPayPalGateway({
      ...common,
      ...credentials,
      apiBaseUrl: baseUrl,
      approvalOrigins: [origin],
      webhook: { webhookId: credentials.webhookId, mode: payments.webhookVerification, certificateOrigins: [origin], timeoutMs: payments.timeoutMs },
    });
  }
  const hosts = PAYPAL_HOSTS[payments.provider];
  return createPayPalGateway({
    ...common,
    apiBaseUrl: payments.apiBaseUrl ?? hosts.api,
    approvalOrigins: [hosts.approval],
    clientId: payments.clientId as string,
    clientSecret: payments.clientSecret as string,
    webhook: { webhookId: payments.webhookId as string, mode: payments.webhookVerification, certificateOrigins: PAYPAL_CERTIFICATE_ORIGINS[payments.provider], timeoutMs: payments.timeoutMs },
  });
}
