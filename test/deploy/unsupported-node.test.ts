import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/config.js';
import { nodeFromRegistry, run, serviceSetting } from './deploy-files.js';

/**
 * Debian 12's own nodejs is Node 18, older than package.json's engines: the compiled portal would die
 * there with a TypeError or a SyntaxError. Node 18 is taken from the npm registry into a temporary folder.
 */
describe('an unsupported Node (18, Debian 12’s own) running the unit’s ExecStart or the build', function () {
  this.timeout(180_000);
  let folder: string;
  let node18: string;

  before(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'recharge-node18-'));
    node18 = await nodeFromRegistry(18, folder);
  });
  after(() => (folder ? rm(folder, { recursive: true, force: true }) : undefined));

  it('stops at once with exit code 78, naming the Node it needs and where to read how to install it', async () => {
    const version = (await run(node18, ['--version'])).stdout.trim().replace(/^v/, '');
    expect(version).to.match(/^18\./);
    const { engines } = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
    const [, ...unitArguments] = serviceSetting('ExecStart').split(' ');
    // The unit's ExecStart (npm start runs the same), and npm run build.
    for (const args of [unitArguments, ['scripts/build.mjs']]) {
      const stopped = await run(node18, args, { cwd: projectRoot }).then(
        () => ({ code: 0, stdout: '', stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      expect(stopped, args.join(' ')).to.deep.include({
        code: 78,
        stdout: '',
        stderr: `Recharge needs Node.js ${engines.node} (package.json "engines"); ${node18} is Node ${version}. Install Node 22 or 24 LTS (docs/deploy/README.md, "Node.js") and run Recharge with it.\n`,
      });
    }
  });
});
