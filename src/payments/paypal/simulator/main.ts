import { createPayPalSimulator } from './index.js';

/** `npm run paypal-sim`: the simulator on its own, for trying the portal's checkout by hand. */
async function main(): Promise<void> {
  const port = Number(process.env.PAYPAL_SIM_PORT ?? '8089');
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`PAYPAL_SIM_PORT must be a port number (0–65535), not ${process.env.PAYPAL_SIM_PORT}`);
    process.exit(1);
  }
  const webhookUrl = process.env.PAYPAL_SIM_WEBHOOK_URL || null;
  if (webhookUrl !== null && !URL.canParse(webhookUrl)) {
    console.error(`PAYPAL_SIM_WEBHOOK_URL must be a URL, not ${webhookUrl}`);
    process.exit(1);
  }
  const simulator = createPayPalSimulator({ webhookUrl });
  const url = await simulator.start(port);
  const { clientId, clientSecret, webhookId } = simulator.credentials;
  console.log(`PayPal simulator at ${url} — client id ${clientId} secret ${clientSecret} webhook id ${webhookId}`);
  console.log(webhookUrl ? `Webhooks are sent to ${webhookUrl}` : 'Webhooks are kept, not sent (set PAYPAL_SIM_WEBHOOK_URL to send them)');
  console.log(`Simulated payments only, no real money. Faults and buyer actions: POST ${url}/simulator/faults, ${url}/simulator/orders/{id}/{action}`);

  const stop = () => void simulator.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
