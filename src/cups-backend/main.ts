/**
 * The CUPS backend `recharge`: a queue whose device URI is `recharge:/<the printer's URI>` charges
 * each job to the person's Recharge account, then hands it to the printer's own backend.
 * CUPS runs it as `recharge job-id user title copies options [file]`; with no arguments it lists
 * itself, as every backend does (backend(7)).
 */
import { cupsMessages } from './cups-messages.js';
import { BackendExit } from './exit-codes.js';
import { runJob } from './job.js';
import { WRAPPER_SCHEME } from './job-arguments.js';
import { watchCancellation } from './real-backend.js';

const args = process.argv.slice(2);
const messages = cupsMessages((line) => process.stderr.write(line));

if (args.length === 0) {
  process.stdout.write(`direct ${WRAPPER_SCHEME} "Unknown" "Recharge print accounting"\n`);
} else {
  // Before anything else: a job cancelled while it prints must still leave its debit.
  const cancellation = watchCancellation();
  try {
    process.exitCode = await runJob({ args, env: process.env, stdin: process.stdin, messages, now: () => new Date(), cancellation });
  } catch (error) {
    // Something this program did not plan for (a spool it cannot write…): CUPS's error policy decides.
    messages.error(`unexpected failure: ${(error as Error).message}`);
    process.exitCode = BackendExit.FAILED;
  }
}
