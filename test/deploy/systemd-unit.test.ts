import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/config.js';
import { compile } from '../helpers/processes.js';
import { deployFolder, requireProgram, run, serviceSetting, serviceSettings } from './deploy-files.js';

describe('docs/deploy/recharge.service', () => {
  it('passes systemd-analyze verify without a warning', async () => {
    await requireProgram('systemd-analyze', ['--version'], 'systemd');
    // verify warns about unknown keys and values it cannot parse, and still exits 0: so nothing on stderr either.
    const { stdout, stderr } = await run('systemd-analyze', ['verify', path.join(deployFolder, 'recharge.service')]);
    expect(stderr).to.equal('');
    expect(stdout).to.equal('');
  });

  it('starts what npm run build produces, stops with SIGTERM after the portal’s own shutdown wait, and may write only the data folder', async function () {
    this.timeout(120_000);
    const [program, ...args] = serviceSetting('ExecStart').split(' ');
    expect(program).to.equal('/usr/bin/node');
    expect(args.slice(0, -1)).to.deep.equal(['--enable-source-maps']);
    await compile();
    // WorkingDirectory is the release, this project here.
    expect(existsSync(path.join(projectRoot, args.at(-1) as string)), `${args.at(-1)} after npm run build`).to.equal(true);

    expect(serviceSetting('KillSignal')).to.equal('SIGTERM');
    const defaults = JSON.parse(readFileSync(path.join(projectRoot, 'config', 'default.json'), 'utf8')) as {
      server: { shutdownTimeoutSeconds: number };
      database: { url: string };
      branding: { uploadsDir: string };
    };
    expect(Number(serviceSetting('TimeoutStopSec'))).to.be.greaterThan(defaults.server.shutdownTimeoutSeconds);
    expect(serviceSetting('Restart')).to.equal('on-failure');

    const workingDirectory = serviceSetting('WorkingDirectory');
    // The only folder the portal writes by default: the SQLite database and the uploaded logos are in it.
    expect(serviceSetting('ReadWritePaths')).to.equal(`${workingDirectory}/data`);
    expect([defaults.database.url, defaults.branding.uploadsDir]).to.deep.equal(['sqlite:data/recharge.sqlite', 'data/uploads']);
    const settings = serviceSettings();
    for (const [key, value] of Object.entries({ User: 'recharge', EnvironmentFile: '/etc/recharge/recharge.env', NoNewPrivileges: 'yes', ProtectSystem: 'strict', PrivateTmp: 'yes', ProtectHome: 'yes' })) {
      expect(settings.get(key), key).to.deep.equal([value]);
    }
  });
});
