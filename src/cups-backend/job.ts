import { createWriteStream } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig, NAME_PATTERN, printerFor, type BackendConfig, type PrinterConfig } from './config.js';
import type { CupsMessages } from './cups-messages.js';
import { BackendExit } from './exit-codes.js';
import { parseJobArguments, type JobArguments } from './job-arguments.js';
import { parseJobOptions, printModeOf } from './job-options.js';
import { countPages } from './page-count.js';
import { createPortalClient, type DebitRequest, type PortalClient } from './portal-client.js';
import { formatUnits, jobCost, unitsOf } from './pricing.js';
import { runRealBackend } from './real-backend.js';
import { replaySpool, type ReplayReport } from './replay-spool.js';
import { createSpool, type Spool } from './spool.js';
import { mapUsername } from './usernames.js';

/** A job's reference and Idempotency-Key, by the API's rule for references. */
const REFERENCE_PATTERN = /^[\x21-\x7e]{1,100}$/;

export interface JobIo {
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream;
  messages: CupsMessages;
  now: () => Date;
}

/** Step 1 (and 5): older debits first. Says what it could not send; what it sent only goes to the log. */
export async function replayAndTell(spool: Spool, portal: PortalClient, messages: CupsMessages): Promise<ReplayReport> {
  const report = await replaySpool(spool, portal);
  for (const name of report.adopted) messages.debug(`debit ${name} of a backend that died while printing: to send`);
  for (const name of [...report.sent, ...report.alreadyDebited]) messages.debug(`debit ${name} sent`);
  for (const { name, reason } of report.failed) messages.warning(`debit ${name} refused (${reason}), kept in failed/`);
  if (report.stoppedBecause) messages.debug(`${report.left.length} debit(s) left in the spool: ${report.stoppedBecause}`);
  return report;
}

/** Steps 1 to 6 of one job; resolves to the backend's exit status. */
export async function runJob({ args, env, stdin, messages, now }: JobIo): Promise<number> {
  const job = parseJobArguments(args, env);
  if ('problem' in job) {
    messages.error(job.problem);
    return BackendExit.FAILED;
  }
  let config: BackendConfig;
  try {
    config = await loadConfig(env.RECHARGE_CUPS_CONFIG ?? DEFAULT_CONFIG_PATH);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    messages.error(error.message);
    return BackendExit.STOP;
  }
  const printer = printerFor(config, job.queue);
  if (!printer) {
    messages.error(`the queue "${job.queue}" is not in the configuration's printers, and there is no defaultPrinter`);
    return BackendExit.STOP;
  }
  const reference = `${config.serverName}:${job.queue}:${job.jobId}`;
  if (!NAME_PATTERN.test(job.queue) || !REFERENCE_PATTERN.test(reference)) {
    messages.error(`the queue name "${job.queue}" cannot go into a job reference (visible ASCII, no colon, 100 characters with the server's name)`);
    return BackendExit.STOP;
  }
  const spool = createSpool(config.spoolDirectory);
  await spool.prepare();
  const portal = createPortalClient({ portalUrl: config.portalUrl, apiKey: config.apiKey, timeoutMs: config.timeoutSeconds * 1000 });
  await replayAndTell(spool, portal, messages);

  const dataFile = spool.workFile(job.jobId);
  try {
    if (job.file) await copyFile(job.file, dataFile);
    else await pipeline(stdin, createWriteStream(dataFile, { mode: 0o600 }));
    return await chargeAndPrint({ job, config, printer, reference, spool, portal, dataFile, env, messages, now });
  } finally {
    await rm(dataFile, { force: true });
  }
}

interface PrintContext {
  job: JobArguments;
  config: BackendConfig;
  printer: PrinterConfig;
  reference: string;
  spool: Spool;
  portal: PortalClient;
  dataFile: string;
  env: NodeJS.ProcessEnv;
  messages: CupsMessages;
  now: () => Date;
}

/** Steps 2 to 5: count, check the account, print, debit. */
async function chargeAndPrint(context: PrintContext): Promise<number> {
  const { job, config, printer, reference, portal, messages } = context;
  const { kind, pages } = await countPages(context.dataFile, context.env.PATH ?? '');
  if (pages === null) {
    messages.error(`cannot count the pages of this document (${kind ?? 'unknown type'}); the job is held`);
    return BackendExit.HOLD;
  }
  const mode = printModeOf(parseJobOptions(job.options), printer.colour);
  const cost = jobCost(printer.prices, mode, pages, job.copies);
  const username = mapUsername(job.user, config.usernames);
  const summary = `${pages} page(s) × ${job.copies}, ${mode.colour ? 'colour' : 'black and white'}, ${mode.duplex ? 'two-sided' : 'one-sided'}: ${formatUnits(cost)} units`;
  const request = { pages: pages * job.copies, printer: job.queue, colour: mode.colour, duplex: mode.duplex, category: printer.category, reference } as const;

  const account = await portal.account(username);
  switch (account.outcome) {
    case 'not-found':
      messages.error(`no account for the user "${username}"; the job is cancelled`);
      return BackendExit.CANCEL;
    case 'refused':
      if (account.status === 401) {
        messages.error('the portal refused the API key; the queue is stopped');
        return BackendExit.STOP;
      }
      messages.error(`the portal refused to read the account of "${username}" (HTTP ${account.status}); the job is held`);
      return BackendExit.HOLD;
    case 'unreachable':
      if (printer.whenUnreachable === 'hold') {
        messages.error(`portal unreachable (${account.reason}); the job will be retried in 5 minutes`);
        return BackendExit.RETRY;
      }
      messages.info(`portal unreachable (${account.reason}); printing now, debiting later`);
      break;
    case 'ok': {
      const { disabled, balance, allowNegative } = account.value;
      if (disabled) {
        if (cost > 0) await recordRefusal(context, username, { ...request, units: unitsOf(cost), reason: 'account-disabled', balance: unitsOf(balance) });
        messages.error(`the account of "${username}" is disabled; the job is cancelled`);
        return BackendExit.CANCEL;
      }
      if (cost > 0 && balance < cost && !allowNegative) {
        await recordRefusal(context, username, { ...request, units: unitsOf(cost), reason: 'insufficient-balance', balance: unitsOf(balance) });
        const short = `not enough units for this job (needs ${formatUnits(cost)}, balance ${formatUnits(balance)})`;
        if (printer.whenShort === 'refuse') {
          messages.error(short);
          return BackendExit.CANCEL;
        }
        messages.error(`${short}; the job is held until released after a top-up`);
        messages.jobState('account-limit-reached');
        return BackendExit.HOLD;
      }
    }
  }

  messages.info(`${username}, ${summary}`);
  const debit: DebitRequest = { ...request, units: unitsOf(cost), afterPrinting: true };
  // Saved before the job prints: a backend killed while the paper comes out still leaves its debit.
  const saved = cost > 0 ? await context.spool.savePrinting({ username, idempotencyKey: reference, body: debit, pid: process.pid, savedAt: context.now().toISOString() }, job.jobId, context.now()) : null;
  let status: number | null = null;
  try {
    status = await runRealBackend({ serverBin: context.env.CUPS_SERVERBIN ?? '/usr/lib/cups', uri: job.deviceUri, jobArguments: [String(job.jobId), job.user, job.title, String(job.copies), job.options], dataFile: context.dataFile, asFile: job.file !== null, env: context.env });
  } finally {
    if (saved && status !== BackendExit.OK) await context.spool.forgetPrinting(saved);
  }
  if (status !== BackendExit.OK) {
    messages.debug(`the printer's backend ended with status ${status}: nothing debited`);
    return status;
  }
  if (saved) await sendPrinted(context, saved, username, cost);
  return BackendExit.OK;
}

/** Best effort: the person's history shows the refused job; the job's fate does not depend on it. */
async function recordRefusal(context: PrintContext, username: string, body: Parameters<PortalClient['refusal']>[1]) {
  const answer = await context.portal.refusal(username, body);
  if (answer.outcome !== 'ok') context.messages.debug(`the refusal could not be recorded in Recharge (${answer.outcome})`);
}

/** Step 5: the debit, on disk since before printing, is sent in order with any older one. */
async function sendPrinted(context: PrintContext, name: string, username: string, cost: number) {
  const { spool, portal, messages } = context;
  await spool.markPrinted(name);
  const report = await replayAndTell(spool, portal, messages);
  if (report.left.includes(name)) messages.info(`${formatUnits(cost)} units to debit from "${username}" kept until the portal is reachable`);
  const failure = report.failed.find((failed) => failed.name === name);
  if (failure) messages.error(`the portal refused the debit of ${formatUnits(cost)} units (${failure.reason}); kept in failed/`);
}
