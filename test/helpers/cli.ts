import { Readable } from 'node:stream';
import { runCli } from '../../src/cli/run.js';

/** The command line in-process, as `npm run cli` runs it: what it printed and its exit code. */
export async function runCliInProcess(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdin: Readable.from([stdin]),
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    env: { NODE_ENV: 'test', ...env },
  });
  return { code, out, err };
}
