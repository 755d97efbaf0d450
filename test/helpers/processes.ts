import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/config.js';

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs an entry point of the project through tsx, or `compiled` as the npm scripts run it (spawnCompiledEntry). */
export function runEntry(entry: string, args: string[], { env, input, compiled = false }: { env: NodeJS.ProcessEnv; input?: string; compiled?: boolean }): Promise<Finished> {
  return finished(compiled ? spawnCompiledEntry(entry, args, env) : spawnEntry(entry, args, env), input);
}

/** `nodeOptions` go before tsx's. */
export function spawnEntry(entry: string, args: string[], env: NodeJS.ProcessEnv, nodeOptions: string[] = []): ChildProcess {
  return spawnNode([...nodeOptions, '--import', 'tsx', path.join(projectRoot, entry), ...args], env);
}

/**
 * The compiled form of a TypeScript entry (dist/src/server.js for src/server.ts) in plain Node, as the
 * npm scripts run it (scripts/run-compiled.mjs); call `compile` first. `nodeOptions` go before the launcher.
 */
export function spawnCompiledEntry(entry: string, args: string[], env: NodeJS.ProcessEnv, nodeOptions: string[] = []): ChildProcess {
  return spawnNode([...nodeOptions, '--enable-source-maps', path.join(projectRoot, 'scripts/run-compiled.mjs'), entry, ...args], env);
}

/** Compiles the project into dist/ unless it is up to date (scripts/build.mjs), as `npm start` would: about 15 s when it compiles. */
export async function compile(): Promise<void> {
  const build = await finished(spawnNode([path.join(projectRoot, 'scripts/build.mjs'), '--if-stale'], {}));
  if (build.code !== 0) throw new Error(`the build failed:\n${build.stderr}`);
}

function spawnNode(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, args, {
    cwd: projectRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

function finished(child: ChildProcess, input?: string): Promise<Finished> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin?.end(input ?? '');
  });
}

/** Resolves with everything printed on stdout once `pattern` appears; rejects if the process ends first. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    let errors = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; stdout: ${output}; stderr: ${errors}`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing ${pattern}; stdout: ${output}; stderr: ${errors}`));
    });
  });
}
