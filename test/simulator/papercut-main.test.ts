import { expect } from 'chai';
import { createPaperCutClient } from '../../src/print-systems/papercut/client.js';
import { spawnEntry, waitForOutput } from '../helpers/processes.js';

describe('npm run papercut-sim', () => {
  it('starts alone with the people given, prints where it listens and its token, and stops on SIGTERM', async () => {
    const child = spawnEntry('src/print-systems/papercut/simulator/main.ts', [], { PAPERCUT_SIM_PORT: '0', PAPERCUT_SIM_USERS: 'etudiant=12.50, admin=0', PAPERCUT_SIM_TOKEN: 'local-token' });
    try {
      const output = await waitForOutput(child, /calls received/);
      const match = /PaperCut simulator at (http:\/\/127\.0\.0\.1:\d+\/rpc\/api\/xmlrpc) — auth token local-token/.exec(output);
      expect(match, output).not.to.equal(null);
      expect(output).to.include('People: etudiant, admin');
      const client = createPaperCutClient({ url: match?.[1] as string, authToken: 'local-token', timeoutMs: 2000 });
      expect(await client.balance('etudiant')).to.equal(1250);
      expect(await client.userExists('admin')).to.equal(true);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  for (const [variable, value, message] of [
    ['PAPERCUT_SIM_PORT', 'eighty', 'PAPERCUT_SIM_PORT must be a port number'],
    ['PAPERCUT_SIM_USERS', 'etudiant:12', 'PAPERCUT_SIM_USERS lists people as username=balance'],
  ] as const) {
    it(`refuses a ${variable} that is not one`, async () => {
      const child = spawnEntry('src/print-systems/papercut/simulator/main.ts', [], { PAPERCUT_SIM_PORT: '0', [variable]: value });
      let errors = '';
      child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).to.equal(1);
      expect(errors).to.include(message);
    });
  }
});
