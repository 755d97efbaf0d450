/** What CUPS tells a backend about one job: argv[1..6] and the environment. */
export interface JobArguments {
  jobId: number;
  user: string;
  title: string;
  copies: number;
  options: string;
  /** argv[6]: the job's file (raw queues); absent when the data comes on stdin. */
  file: string | null;
  /** The queue (env PRINTER). */
  queue: string;
  /** The real device URI: DEVICE_URI without its `recharge:/`. */
  deviceUri: string;
}

export const WRAPPER_SCHEME = 'recharge';

/** The job's arguments, or why they are not a CUPS job's. */
export function parseJobArguments(args: readonly string[], env: NodeJS.ProcessEnv): JobArguments | { problem: string } {
  if (args.length !== 5 && args.length !== 6) return { problem: 'usage: recharge job-id user title copies options [file]' };
  const [jobId, user, title, copies, options, file] = args as [string, string, string, string, string, string | undefined];
  if (!/^\d{1,10}$/.test(jobId) || Number(jobId) === 0) return { problem: `"${jobId}" is not a job id` };
  if (!/^\d{1,6}$/.test(copies) || Number(copies) === 0) return { problem: `"${copies}" is not a number of copies` };
  const deviceUri = new RegExp(`^${WRAPPER_SCHEME}:/*(.+)$`, 'i').exec(env.DEVICE_URI ?? '')?.[1];
  if (deviceUri === undefined) return { problem: `DEVICE_URI must be ${WRAPPER_SCHEME}:/<the printer's URI>, not "${env.DEVICE_URI ?? ''}"` };
  if (new RegExp(`^${WRAPPER_SCHEME}:`, 'i').test(deviceUri)) return { problem: `DEVICE_URI wraps ${WRAPPER_SCHEME} in itself` };
  const queue = env.PRINTER ?? '';
  if (queue === '') return { problem: 'PRINTER (the queue) is not set' };
  return { jobId: Number(jobId), user, title, copies: Number(copies), options, file: file ?? null, queue, deviceUri };
}
