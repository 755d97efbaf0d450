import { hundredthsOf } from '../amounts.js';
import { XmlRpcDouble } from '../xml-rpc.js';
import { createPaperCutSimulator } from './index.js';

const PERSON = /^([^=,\s]+)=(-?\d{1,9}(?:\.\d{1,2})?)$/;

/** `npm run papercut-sim`: the simulator on its own, for trying the portal's PaperCut connector by hand. */
async function main(): Promise<void> {
  const port = Number(process.env.PAPERCUT_SIM_PORT ?? '9191');
  if (!Number.isInteger(port) || port < 0 || port > 65_535) return stop(`PAPERCUT_SIM_PORT must be a port number (0–65535), not ${process.env.PAPERCUT_SIM_PORT}`);
  const users: Record<string, number> = {};
  for (const entry of (process.env.PAPERCUT_SIM_USERS ?? '').split(',').filter((text) => text.trim() !== '')) {
    const match = PERSON.exec(entry.trim());
    if (!match) return stop(`PAPERCUT_SIM_USERS lists people as username=balance, comma-separated (etudiant=12.50,admin=0), not ${entry}`);
    users[match[1] as string] = hundredthsOf(new XmlRpcDouble(match[2] as string)) as number;
  }
  const simulator = createPaperCutSimulator({ authToken: process.env.PAPERCUT_SIM_TOKEN || undefined, users });
  const url = await simulator.start(port);
  const origin = new URL(url).origin;
  process.stdout.write(`PaperCut simulator at ${url} — auth token ${simulator.authToken}\n`);
  process.stdout.write(`People: ${Object.keys(users).join(', ') || 'none yet'} (PUT ${origin}/simulator/users/{username} {"balance": "12.50"})\n`);
  process.stdout.write(`Simulated balances only. Faults: POST ${origin}/simulator/faults; calls received: GET ${origin}/simulator/calls\n`);

  const shutdown = () => void simulator.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

function stop(message: string): void {
  console.error(message);
  process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
