import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { projectRoot } from '../../src/config.js';

const { nodeSatisfies } = (await import(pathToFileURL(path.join(projectRoot, 'scripts/supported-node.mjs')).href)) as { nodeSatisfies: (version: string, range: string) => boolean };
const ENGINES = '^20.17.0 || ^22.13.0 || >=24';

describe('scripts/supported-node.mjs: the Node versions package.json’s engines names', () => {
  it('accepts each line from its lowest version on, and every Node from 24 on', () => {
    for (const version of ['20.17.0', '20.20.2', '22.13.0', '22.21.1', '24.0.0', '24.11.1', '25.2.0', '26.0.0']) expect(nodeSatisfies(version, ENGINES), version).to.equal(true);
  });

  it('refuses older releases of a line, the lines between, and Debian 12’s Node 18', () => {
    for (const version of ['18.19.0', '18.20.8', '20.16.0', '21.7.3', '22.12.0', '23.11.0']) expect(nodeSatisfies(version, ENGINES), version).to.equal(false);
  });

  it('reads package.json’s own engines (the versions above are for it), and throws on a range it cannot read rather than guessing', () => {
    const { engines } = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(engines.node).to.equal(ENGINES);
    expect(nodeSatisfies(process.versions.node, engines.node)).to.equal(true);
    expect(() => nodeSatisfies('20.17.0', '~20.17.0')).to.throw('"~20.17.0" is not of the form');
    expect(() => nodeSatisfies('20.17.0', '>=20 <21')).to.throw('is not of the form');
  });
});
