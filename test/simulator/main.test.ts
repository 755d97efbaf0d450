import { expect } from 'chai';
import { spawnEntry, waitForOutput } from '../helpers/processes.js';

describe('npm run paypal-sim', () => {
  it('starts alone, prints where it listens and its credentials, and stops on SIGTERM', async () => {
    const child = spawnEntry('src/payments/paypal/simulator/main.ts', [], { PAYPAL_SIM_PORT: '0' });
    try {
      const output = await waitForOutput(child, /webhook id \S+/);
      const match = /PayPal simulator at (http:\/\/127\.0\.0\.1:\d+) — client id sim-client-id secret sim-client-secret webhook id SIM-WEBHOOK-ID/.exec(output);
      expect(match, output).not.to.equal(null);
      const token = await fetch(`${match?.[1]}/v1/oauth2/token`, {
        method: 'POST',
        headers: { Authorization: `Basic ${Buffer.from('sim-client-id:sim-client-secret').toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      expect(token.status).to.equal(200);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses a port that is not one', async () => {
    const child = spawnEntry('src/payments/paypal/simulator/main.ts', [], { PAYPAL_SIM_PORT: 'eighty' });
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).to.equal(1);
    expect(errors).to.include('PAYPAL_SIM_PORT must be a port number');
  });
});
