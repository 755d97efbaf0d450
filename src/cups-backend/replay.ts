/**
 * Sends the debits the backend kept while Recharge was unreachable, oldest first. Run by a timer
 * (and by hand): it prints what it did and exits 1 while debits are left, 2 when it cannot run.
 */
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from './config.js';
import { createPortalClient } from './portal-client.js';
import { replaySpool } from './replay-spool.js';
import { createSpool } from './spool.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

try {
  const config = await loadConfig(process.env.RECHARGE_CUPS_CONFIG ?? DEFAULT_CONFIG_PATH);
  const spool = createSpool(config.spoolDirectory);
  await spool.prepare();
  const portal = createPortalClient({ portalUrl: config.portalUrl, apiKey: config.apiKey, timeoutMs: config.timeoutSeconds * 1000 });
  const report = await replaySpool(spool, portal);
  for (const name of report.adopted) say(`printed by a backend that died: ${name}`);
  for (const name of report.sent) say(`sent ${name}`);
  for (const name of report.alreadyDebited) say(`already debited ${name}`);
  for (const { name, reason } of report.failed) say(`ERROR: not sent ${name}: ${reason} (moved to failed/)`);
  if (report.stoppedBecause) say(`left ${report.left.length} debit(s): ${report.stoppedBecause}`);
  const failedBefore = await spool.failedNames();
  if (failedBefore.length > 0) say(`${failedBefore.length} debit(s) in failed/ need a person's decision`);
  say(`done: ${report.sent.length} sent, ${report.alreadyDebited.length} already debited, ${report.failed.length} set aside, ${report.left.length} left`);
  process.exitCode = report.left.length > 0 ? 1 : 0;
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `replay failed: ${(error as Error).message}`);
  process.exitCode = 2;
}
