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
import { thisProcess } from './process-identity.js';
import { NoBackendAccount, runRealBackend, type Cancellation, type RealBackendEnd } from './real-backend.js';
import { replaySpool, type ReplayReport } from './replay-spool.js';
import { createSpool, REFERENCE_PATTERN, type Spool } from './spool.js';
import { isPortalUsername, mapUsername } from './usernames.js';

/** The API's limits on one debit: a job beyond them would print, then have its debit refused. */
const MAX_JOB_COST = 10_000 * 100;
const MAX_JOB_PAGES = 100_000;

export interface JobIo {
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream;
  messages: CupsMessages;
  now: () => Date;
  cancellation: Cancellation;
}

/** Step 1 (and 5): older debits first. Says what it could not send; what it sent only goes to the log. */
export async function replayAndTell(spool: Spool, portal: PortalClient, messages: CupsMessages): Promise<ReplayReport> {
  const report = await replaySpool(spool, portal);
  for (const name of report.adopted) messages.debug(`debit ${name} of a backend that died while printing: to send`);
  for (const name of report.sent) messages.debug(`debit ${name} sent`);
  for (const name of report.alreadyDebited) messages.debug(`debit ${name} already debited`);
  for (const { name, reason } of report.failed) messages.error(`debit ${name} not sent (${reason}), kept in failed/`);
  if (report.stoppedBecause) messages.debug(`${report.left.length} debit(s) left in the spool: ${report.stoppedBecause}`);
  return report;
}

/** Steps 1 to 6 of one job; resolves to the backend's exit status. */
export async function runJob({ args, env, stdin, messages, now, cancellation }: JobIo): Promise<number> {
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
  const jobReference = `${config.serverName}:${job.queue}:${job.jobId}`;
  if (!NAME_PATTERN.test(job.queue) || !REFERENCE_PATTERN.test(jobReference)) {
    messages.error(`the queue name "${job.queue}" cannot go into a job reference (visible ASCII, no colon, 100 characters with the server's name)`);
    return BackendExit.STOP;
  }
  const username = mapUsername(job.user, config.usernames);
  // Names no account can have ("..", "" once the domain is stripped) are never sent: some would change the request's path.
  if (!isPortalUsername(username)) {
    messages.error(`no Recharge account for the user "${job.user}"; the job is cancelled`);
    return BackendExit.CANCEL;
  }
  const spool = createSpool(config.spoolDirectory);
  await spool.prepare();
  const portal = createPortalClient({ portalUrl: config.portalUrl, apiKey: config.apiKey, timeoutMs: config.timeoutSeconds * 1000 });
  // CUPS keeps a job's files after it printed, and its owner may restart it: printed again, debited again.
  const reference = await spool.referenceFor(jobReference, now());
  if (reference === null) {
    messages.error(`this job printed already as ${jobReference}, and a reprint's reference would be over 100 characters; the job is held`);
    return BackendExit.HOLD;
  }
  if (reference !== jobReference) messages.debug(`job ${jobReference} printed already: this reprint is debited as ${reference}`);
  await replayAndTell(spool, portal, messages);

  const dataFile = spool.workFile(job.jobId);
  try {
    if (job.file) await copyFile(job.file, dataFile);
    else await pipeline(stdin, createWriteStream(dataFile, { mode: 0o600 }));
    return await chargeAndPrint({ job, printer, reference, username, spool, portal, dataFile, env, messages, now, cancellation });
  } finally {
    // What is left is removed by a later run (the work file is named after this process).
    await rm(dataFile, { force: true }).catch(() => undefined);
  }
}

interface PrintContext {
  job: JobArguments;
  printer: PrinterConfig;
  reference: string;
  /** The Recharge username the job is charged to. */
  username: string;
  spool: Spool;
  portal: PortalClient;
  dataFile: string;
  env: NodeJS.ProcessEnv;
  messages: CupsMessages;
  now: () => Date;
  cancellation: Cancellation;
}

/** Steps 2 to 5: count, check the account, print, debit. */
async function chargeAndPrint(context: PrintContext): Promise<number> {
  const { job, printer, reference, portal, username, messages } = context;
  const { kind, pages } = await countPages(context.dataFile, context.env.PATH ?? '');
  if (pages === null) {
    messages.error(`cannot count the pages of this document (${kind ?? 'unknown type'}); the job is held`);
    return BackendExit.HOLD;
  }
  const mode = printModeOf(parseJobOptions(job.options), printer.colour);
  const cost = jobCost(printer.prices, mode, pages, job.copies);
  const summary = `${pages} page(s) × ${job.copies}, ${mode.colour ? 'colour' : 'black and white'}, ${mode.duplex ? 'two-sided' : 'one-sided'}: ${formatUnits(cost)} units`;
  if (cost > MAX_JOB_COST || pages * job.copies > MAX_JOB_PAGES) {
    messages.error(`this job (${summary}) is over what Recharge debits for one job (${formatUnits(MAX_JOB_COST)} units, ${MAX_JOB_PAGES} pages); the job is held`);
    return BackendExit.HOLD;
  }
  const request = { pages: pages * job.copies, printer: job.queue, colour: mode.colour, duplex: mode.duplex, category: printer.category, reference } as const;

  const account = await portal.account(username);
  switch (account.outcome) {
    case 'not-found':
      messages.error(`no Recharge account for the user "${username}"; the job is cancelled`);
      return BackendExit.CANCEL;
    case 'refused':
      if (account.status === 401) {
        messages.error('the portal refused the API key; the queue is stopped');
        return BackendExit.STOP;
      }
      messages.error(`the portal refused to read the account of "${username}" (HTTP ${account.status}); the job is held`);
      return BackendExit.HOLD;
    case 'unreachable':
    case 'foreign':
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
  return print(context, cost > 0 ? { username, idempotencyKey: reference, body: debit } : null);
}

/** Best effort: the person's history shows the refused job; the job's fate does not depend on it. */
async function recordRefusal(context: PrintContext, username: string, body: Parameters<PortalClient['refusal']>[1]) {
  const answer = await context.portal.refusal(username, body);
  if (answer.outcome !== 'ok') context.messages.debug(`the refusal could not be recorded in Recharge (${answer.outcome})`);
}

/**
 * Steps 4 and 5. The printer may have the job once its backend ran, unless it ended with an error
 * on its own: killed by a signal, or stopped because CUPS cancelled the job meanwhile (SIGTERM), the
 * job is debited.
 */
async function print(context: PrintContext, debit: { username: string; idempotencyKey: string; body: DebitRequest } | null): Promise<number> {
  const { job, spool, messages, now, cancellation } = context;
  // Saved before the job prints: a backend killed while the paper comes out still leaves its debit.
  const saved = debit ? await spool.savePrinting({ ...debit, ...thisProcess(), savedAt: now().toISOString() }, job.jobId, now()) : null;
  // Checked right before the real backend starts (no signal is handled in between): nothing printed yet.
  if (cancellation.requested) {
    if (saved) await spool.forgetPrinting(saved);
    messages.info('the job was cancelled before it printed');
    return BackendExit.OK;
  }
  let end: RealBackendEnd;
  try {
    end = await runRealBackend({
      serverBin: context.env.CUPS_SERVERBIN ?? '/usr/lib/cups',
      uri: job.deviceUri,
      jobArguments: [String(job.jobId), job.user, job.title, String(job.copies), job.options],
      dataFile: context.dataFile,
      cupsFile: job.file,
      env: context.env,
      cancellation,
      warn: (text) => messages.warning(text),
    });
  } catch (error) {
    // It never started: nothing printed.
    if (saved) await spool.forgetPrinting(saved);
    if (!(error instanceof NoBackendAccount)) throw error;
    messages.error(`${error.message}; the queue is stopped`);
    return BackendExit.STOP;
  }
  const cancelled = cancellation.requested;
  if (end.status !== BackendExit.OK && end.signal === null && !cancelled) {
    if (saved) await spool.forgetPrinting(saved);
    messages.debug(`the printer's backend ended with status ${end.status}: nothing debited`);
    return end.status ?? BackendExit.FAILED;
  }
  if (end.status !== BackendExit.OK) messages.debug(`the printer's backend ended with ${end.signal ?? `status ${end.status}`}${cancelled ? ' after the job was cancelled' : ''}: the job may be on paper, so it is debited`);
  try {
    if (saved && debit) await sendPrinted(context, saved, debit.username);
  } catch (error) {
    // The paper is out: failing now would have CUPS print the job again. Whatever was not kept is in the log.
    messages.error(`the job printed, but its debit could not be kept or sent (${(error as Error).message}): ${JSON.stringify(debit)}`);
  }
  // Last, and only when CUPS marks the job completed: its own runs again (queue stopped, cupsd stopping,
  // a failure retried), all after a SIGTERM or an error, keep the reference and are debited once.
  if (debit && end.status === BackendExit.OK && !cancellation.requested) await markCompleted(context, debit.body.reference);
  // A cancelled job ends as CUPS asked; a backend killed otherwise failed, as CUPS would have seen it.
  return cancelled || end.status === BackendExit.OK ? BackendExit.OK : BackendExit.FAILED;
}

/** Makes a later run of this job (restarted by its owner) a reprint, debited under another reference. */
async function markCompleted({ spool, messages, now }: PrintContext, reference: string) {
  try {
    await spool.markDone(reference, now());
  } catch (error) {
    messages.error(`the job printed, but could not be marked as printed (${(error as Error).message}): restarted, it would not be debited again`);
  }
}

/** Step 5: the debit, on disk since before printing, is sent in order with any older one. */
async function sendPrinted(context: PrintContext, name: string, username: string) {
  const { spool, portal, messages } = context;
  await spool.markPrinted(name);
  const report = await replayAndTell(spool, portal, messages);
  if (report.left.includes(name)) messages.info(`the debit of "${username}" is kept until the portal is reachable`);
}
