import type { ChildProcess } from 'node:child_process';
import { Agent as HttpAgent, createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import supertest from 'supertest';
import { createTestDatabase, testDialect, type TestDatabase } from '../helpers/database.js';
import { spawnEntry, waitForOutput } from '../helpers/processes.js';
import { csrfTokenFrom, logIn } from '../helpers/portal.js';
import { placeOrder } from '../helpers/topup.js';
import { gate, until } from '../helpers/waiting.js';
import { freePortOutsideEphemeralRange } from '../helpers/free-port.js';
import { createLogger } from '../../src/logger.js';
import { createShutdown } from '../../src/shutdown.js';

interface RunningPortal {
  url: string;
  child: ChildProcess;
  /** The pino lines printed so far. */
  logs(): Array<{ level: number; msg: string; [key: string]: unknown }>;
  output(): string;
  exited: Promise<number | null>;
  student: { username: string; password: string };
}

/**
 * Stopping the portal process (`npm start`, or systemd's SIGTERM). The request held in flight is
 * "Pay with PayPal", which waits for PayPal's create-order call: the simulator runs in a process of
 * its own, so that delaying its answer delays nothing in the portal's process but that request.
 */
describe(`the server process stopping on a signal (${testDialect})`, () => {
  let simulator: ChildProcess;
  let simulatorUrl: string;
  let database: TestDatabase;
  let portal: RunningPortal | null = null;

  before(async () => {
    simulator = spawnEntry('src/payments/paypal/simulator/main.ts', [], { PAYPAL_SIM_PORT: '0' });
    simulatorUrl = /PayPal simulator at (\S+)/.exec(await waitForOutput(simulator, /PayPal simulator at \S+/))?.[1] as string;
  });
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(`The portal's output:\n${portal?.output()}`);
    await fetch(`${simulatorUrl}/simulator/faults`, { method: 'DELETE' });
    if (portal?.child.exitCode === null && portal.child.signalCode === null) portal.child.kill('SIGKILL');
    await portal?.exited;
    portal = null;
    await database.cleanup();
  });
  after(async () => {
    const exited = new Promise((resolve) => simulator.once('exit', resolve));
    simulator.kill('SIGTERM');
    await exited;
  });

  async function startPortal(env: Record<string, string> = {}): Promise<RunningPortal> {
    const child = spawnEntry('src/server.ts', [], {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      // Not port 0: a suite running beside this one could be handed the port as soon as it is closed, and accept the connection a test says is refused.
      PORT: String(await freePortOutsideEphemeralRange()),
      // Reached on 127.0.0.1 while PUBLIC_URL defaults to localhost: pages would be sent there.
      REDIRECT_TO_PUBLIC_URL: 'false',
      DATABASE_URL: database.url,
      PAYPAL_API_BASE_URL: simulatorUrl,
      LOG_LEVEL: 'info',
      ...env,
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const banner = await waitForOutput(child, /Recharge is running at http:\/\/localhost:(\d+)[\s\S]*user\s+\S+ \/ \S+/, 45_000);
    const [, username = '', password = ''] = /user\s+(\S+) \/ (\S+)/.exec(banner) ?? [];
    portal = {
      url: `http://127.0.0.1:${/localhost:(\d+)/.exec(banner)?.[1]}`,
      child,
      logs: () => stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line)),
      output: () => stdout + stderr,
      exited,
      student: { username, password },
    };
    return portal;
  }

  /** The student signed in with an order waiting for payment; `pay()` presses "Pay with PayPal". */
  async function orderReadyToPay(running: RunningPortal): Promise<{ pay: () => Promise<supertest.Response> }> {
    const agent = supertest.agent(running.url);
    expect((await logIn(agent, running.student.username, running.student.password)).status).to.equal(303);
    const terms = /name="terms" value="(\d+)"/.exec((await agent.get('/topup').expect(200)).text)?.[1] as string;
    const number = await placeOrder(agent, { offer: 'pack-5', terms });
    const csrf = csrfTokenFrom((await agent.get(`/orders/${number}`).expect(200)).text);
    // Sent at once (a supertest request waits to be awaited), on a kept-alive connection as browsers
    // send it (supertest asks for Connection: close otherwise).
    return { pay: async () => agent.post(`/orders/${number}/pay`).agent(new HttpAgent({ keepAlive: true })).type('form').send({ _csrf: csrf }) };
  }

  /** From now on the simulator answers order creations `ms` late (its delay fault). */
  async function delayPayPal(ms: number): Promise<void> {
    const response = await fetch(`${simulatorUrl}/simulator/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ fault: { type: 'delay', ms, operation: 'create' } }),
    });
    expect(response.status).to.equal(204);
  }

  /** Each test's database holds one order: the one being paid. */
  const theOrder = () => database.db.knex('orders').first('status', 'paypal_order_id', 'payment_started_at');
  const paymentStarted = () => until(async () => (await theOrder())?.payment_started_at, 'the order is being sent to PayPal');
  const logged = (running: RunningPortal, message: RegExp) => until(() => running.logs().find((line) => message.test(line.msg)), `the portal logs ${message}`);

  /** Resolves with the error code of a new TCP connection to the portal's port (null: it was accepted). */
  const connectionOutcome = (url: string) =>
    new Promise<string | null>((resolve) => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(null);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });

  it('on SIGTERM refuses new connections, answers the request in flight as usual on a connection it then closes, and exits 0', async () => {
    // Shorter than the request (1.5 s) and the 5 s its keep-alive connection would otherwise idle for after it.
    const running = await startPortal({ SHUTDOWN_TIMEOUT_SECONDS: '4' });
    const { pay } = await orderReadyToPay(running);
    await delayPayPal(1_500);
    const answer = pay();
    await paymentStarted();

    running.child.kill('SIGTERM');
    const shuttingDown = await logged(running, /^shutting down/);
    expect(await connectionOutcome(running.url)).to.equal('ECONNREFUSED');

    const response = await answer;
    expect(response.status).to.equal(303);
    expect(response.headers.location).to.match(new RegExp(`^${simulatorUrl}/checkoutnow\\?token=`));
    expect(response.headers.connection).to.equal('close');
    expect(await running.exited).to.equal(0);
    expect(shuttingDown).to.include({ signal: 'SIGTERM', requestsInFlight: 1 });
    expect(running.logs().map((line) => line.msg)).to.include('stopped');
    const order = await theOrder();
    expect(order).to.include({ status: 'awaiting_payment' });
    expect(response.headers.location).to.include(`token=${order?.paypal_order_id}`);
  });

  it('exits 1 with a line in the log when requests are still running after SHUTDOWN_TIMEOUT_SECONDS', async () => {
    const running = await startPortal({ SHUTDOWN_TIMEOUT_SECONDS: '1' });
    const { pay } = await orderReadyToPay(running);
    await delayPayPal(60_000);
    const answer = pay().then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code,
    );
    await paymentStarted();

    running.child.kill('SIGTERM');
    expect(await running.exited).to.equal(1);
    expect(running.logs().find((line) => /^still busy/.test(line.msg))).to.include({ requestsInFlight: 1, msg: 'still busy 1 s after SIGTERM: exiting without waiting any longer (SHUTDOWN_TIMEOUT_SECONDS)' });
    expect(await answer).to.equal('ECONNRESET');
  });

  it('takes a second signal right after the first as the same stop (Ctrl-C signals npm and the portal both): the request in flight is still answered', async () => {
    const running = await startPortal({ SHUTDOWN_TIMEOUT_SECONDS: '4' });
    const { pay } = await orderReadyToPay(running);
    await delayPayPal(1_500);
    const answer = pay();
    await paymentStarted();

    running.child.kill('SIGINT');
    // As npm passes Ctrl-C on: after the portal took its own SIGINT, a few milliseconds later.
    await logged(running, /^shutting down/);
    running.child.kill('SIGINT');
    const response = await answer;
    expect(response.status).to.equal(303);
    expect(await running.exited).to.equal(0);
    const messages = running.logs().map((line) => line.msg);
    expect(messages).to.include('stopped');
    expect(messages).to.not.include('second signal: exiting at once, without waiting for the requests in flight');
  });

  it('exits at once with code 1 at a second signal, and stops as well on SIGINT', async () => {
    const running = await startPortal();
    const { pay } = await orderReadyToPay(running);
    await delayPayPal(60_000);
    void pay().catch(() => 'cut off');
    await paymentStarted();

    running.child.kill('SIGINT');
    const shuttingDown = await logged(running, /^shutting down/);
    // Past the moment when a second signal is only the first one's echo (Ctrl-C reaching npm and the portal).
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    running.child.kill('SIGTERM');
    expect(await running.exited).to.equal(1);
    expect(shuttingDown).to.include({ signal: 'SIGINT', requestsInFlight: 1 });
    const messages = running.logs().map((line) => line.msg);
    expect(messages).to.include('second signal: exiting at once, without waiting for the requests in flight');
    expect(messages.filter((message) => /^still busy/.test(message))).to.deep.equal([]);
  });
});

describe('the shutdown sequence, in-process', () => {
  it('lets an answer already streaming finish, then closes its kept-alive connection and releases before exiting 0', async () => {
    const steps: string[] = [];
    const finishBody = gate();
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.write('first half, ');
      response.once('finish', () => steps.push('answered'));
      void finishBody.opened.then(() => response.end('second half'));
    });
    // Far longer than the test: only closing the connection after its answer lets the server close.
    server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    let exit!: (code: number) => void;
    const exited = new Promise<number>((resolve) => (exit = resolve));
    const shutDown = createShutdown({
      server,
      logger: createLogger({ log: { level: 'silent' } }),
      timeoutMs: 60_000,
      stopTimers: () => steps.push('timers stopped'),
      release: async () => void steps.push('released'),
      exit,
    });

    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/export.csv`);
    shutDown('SIGTERM');
    finishBody.open();
    expect(await response.text()).to.equal('first half, second half');
    expect(await exited).to.equal(0);
    expect(steps).to.deep.equal(['timers stopped', 'answered', 'released']);
  });
});
