import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, parseConfig, printerFor } from '../../../src/cups-backend/config.js';

const printer = { category: 'print', colour: true, prices: { mono: { simplex: 0.1, duplex: 0.08 }, colour: { simplex: 0.5, duplex: 0.45 } }, whenShort: 'refuse', whenUnreachable: 'hold' };
const valid = { portalUrl: 'https://recharge.example.org/', apiKey: 'rk_secret', serverName: 'print1', printers: { b112: printer } };

async function refusal(config: unknown): Promise<string> {
  try {
    await parseConfig(JSON.stringify(config), 'cups-backend.json', async () => {
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    });
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('CUPS backend: configuration', () => {
  it('reads a valid configuration, with prices in hundredths and the defaults filled in', async () => {
    const config = await parseConfig(JSON.stringify(valid), 'cups-backend.json');
    expect(config).to.deep.include({ portalUrl: 'https://recharge.example.org', apiKey: 'rk_secret', timeoutSeconds: 10, usernames: [], spoolDirectory: '/var/spool/recharge-cups', defaultPrinter: null });
    expect(config.printers.b112?.prices).to.deep.equal({ mono: { simplex: 10, duplex: 8 }, colour: { simplex: 50, duplex: 45 } });
  });

  it('names the field at fault', async () => {
    expect(await refusal({ ...valid, printers: { b112: { ...printer, prices: { ...printer.prices, mono: { simplex: 0.105, duplex: 0.08 } } } } })).to.include('printers.b112.prices.mono.simplex: a price has at most two decimals');
    expect(await refusal({ ...valid, printers: { b112: { ...printer, prices: { mono: printer.prices.mono } } } })).to.include('printers.b112.prices.colour: colour prices are required for a colour printer');
    expect(await refusal({ ...valid, printers: { b112: { ...printer, whenShort: 'later' } } })).to.include('printers.b112.whenShort');
    expect(await refusal({ ...valid, portalUrl: 'ftp://x' })).to.include('portalUrl');
    expect(await refusal({ ...valid, serverName: 'print:1' })).to.include('serverName: visible ASCII characters without a colon');
    expect(await refusal({ ...valid, printers: { 'b 112': printer } })).to.include('printers.b 112');
    expect(await refusal({ ...valid, usernames: ['upper-case'] })).to.include('usernames.0');
    expect(await refusal({ ...valid, prices: {} })).to.include('prices: unknown field');
  });

  it('wants exactly one of apiKey and apiKeyFile, and a readable, non-empty key file', async () => {
    const { apiKey: _apiKey, ...withoutKey } = valid;
    expect(await refusal(withoutKey)).to.include('apiKey: give either apiKey or apiKeyFile');
    expect(await refusal({ ...valid, apiKeyFile: '/etc/recharge/key' })).to.include('apiKey: give either apiKey or apiKeyFile');
    expect(await refusal({ ...withoutKey, apiKeyFile: '/etc/recharge/key' })).to.equal('apiKeyFile: cannot read /etc/recharge/key (ENOENT)');
    const folder = await mkdtemp(path.join(tmpdir(), 'recharge-cups-config-'));
    try {
      await writeFile(path.join(folder, 'key'), 'rk_from_file\n');
      await writeFile(path.join(folder, 'empty'), '\n');
      await writeFile(path.join(folder, 'config.json'), JSON.stringify({ ...withoutKey, apiKeyFile: path.join(folder, 'key') }));
      expect((await loadConfig(path.join(folder, 'config.json'))).apiKey).to.equal('rk_from_file');
      await writeFile(path.join(folder, 'config.json'), JSON.stringify({ ...withoutKey, apiKeyFile: path.join(folder, 'empty') }));
      await loadConfig(path.join(folder, 'config.json')).then(
        () => expect.fail('an empty key file was taken'),
        (error: Error) => expect(error.message).to.equal(`apiKeyFile: ${path.join(folder, 'empty')} is empty`),
      );
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('says which file is not JSON or cannot be read', async () => {
    await parseConfig('{ "portalUrl": ', '/etc/recharge/cups-backend.json').then(
      () => expect.fail('taken'),
      (error: Error) => expect(error.message).to.match(/^\/etc\/recharge\/cups-backend\.json is not valid JSON/),
    );
    await loadConfig('/nowhere/cups-backend.json').then(
      () => expect.fail('taken'),
      (error: Error) => expect(error.message).to.equal('cannot read the configuration /nowhere/cups-backend.json (ENOENT)'),
    );
  });

  it('finds a queue\'s printer, or the default printer, and nothing inherited', async () => {
    const config = await parseConfig(JSON.stringify(valid), 'c');
    expect(printerFor(config, 'b112')?.category).to.equal('print');
    expect(printerFor(config, 'toString')).to.equal(null);
    const withDefault = await parseConfig(JSON.stringify({ ...valid, defaultPrinter: { ...printer, category: 'copy' } }), 'c');
    expect(printerFor(withDefault, 'elsewhere')?.category).to.equal('copy');
  });
});
