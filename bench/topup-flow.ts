import { expectStatus, logIn, type Browser } from './browser.js';
import { percentile, withServerCosts, type LoadSettings, type MeasuredServer, type Measurement } from './measurement.js';
import { BENCH_PASSWORD, buyerUsername } from './prepare.js';

/** The smallest demo pack: what is bought changes nothing to the work done. */
const OFFER = 'pack-5';

interface Buyer {
  browser: Browser;
  csrf: string;
  termsId: string;
}

async function signIn(baseUrl: string, index: number): Promise<Buyer> {
  const { browser, csrf } = await logIn(baseUrl, buyerUsername(index), BENCH_PASSWORD);
  const form = expectStatus(await browser.get(`${baseUrl}/topup`), 200);
  const termsId = /name="terms" value="(\d+)"/.exec(form.text)?.[1];
  if (!termsId) throw new Error('the top-up page shows no terms to accept');
  return { browser, csrf, termsId };
}

/**
 * One top-up as a browser makes it, every redirect followed: the offer and terms posted, the order
 * page, "Pay with PayPal", the simulator's approval page and its Approve button, PayPal's return to
 * the portal (which captures and credits), and the order page, which must say paid. Returns the
 * bytes received.
 */
async function topUp(baseUrl: string, { browser, csrf, termsId }: Buyer): Promise<number> {
  const placed = expectStatus(await browser.post(`${baseUrl}/topup`, { _csrf: csrf, offer: OFFER, terms: termsId }), 303, /\/orders\/R-/);
  const order = expectStatus(await browser.get(placed.location!), 200);
  const pay = expectStatus(await browser.post(`${placed.location!}/pay`, { _csrf: csrf }), 303, /\/checkoutnow\?/);
  const approval = expectStatus(await browser.get(pay.location!), 200);
  const token = new URL(pay.location!).searchParams.get('token') ?? '';
  const approved = expectStatus(await browser.post(new URL('/checkoutnow/approve', pay.location!).toString(), { token }), 303, /\/topup\/return\?/);
  const returned = expectStatus(await browser.get(approved.location!), 303, /\/orders\/R-/);
  const paid = expectStatus(await browser.get(returned.location!), 200);
  if (!paid.text.includes('status--paid')) throw new Error(`${paid.url} does not show the order paid`);
  return [placed, order, pay, approval, approved, returned, paid].reduce((sum, page) => sum + page.bytes, 0);
}

export interface TopUpMeasurement extends Measurement {
  /** CPU time of the PayPal simulator's own process per flow, in ms. */
  simulatorCpuMsPerFlow: number | null;
  /** Flows completed and failed, warm-up included: each completed one paid an order, a failed one may have. */
  allFlows: { completed: number; failed: number };
}

/**
 * `connections` buyers, each signed in with a session of their own, top up one after the other for
 * the duration: flows per second and percentiles of a whole flow, like autocannon's per request.
 * A flow that goes wrong counts as a failure and its buyer goes on. The portal's CPU time and
 * statements are its own; the simulator's CPU time, in its own process, is given apart.
 */
export async function measureTopUps(baseUrl: string, server: MeasuredServer, simulator: MeasuredServer, settings: LoadSettings): Promise<TopUpMeasurement> {
  const buyers = await Promise.all(Array.from({ length: settings.connections }, (_, index) => signIn(baseUrl, index)));
  const run = async (seconds: number) => {
    const durations: number[] = [];
    const errors: string[] = [];
    let bytes = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    await Promise.all(
      buyers.map(async (buyer) => {
        while (performance.now() < deadline) {
          const flowStarted = performance.now();
          try {
            const flowBytes = await topUp(baseUrl, buyer);
            durations.push(performance.now() - flowStarted);
            bytes += flowBytes;
          } catch (error) {
            errors.push((error as Error).message);
          }
        }
      }),
    );
    return { durations, errors, bytes, elapsedSeconds: (performance.now() - started) / 1000, completed: durations.length };
  };
  const warmUp = settings.warmUpSeconds > 0 ? await run(settings.warmUpSeconds) : { completed: 0, errors: [] };
  const simulatorBefore = simulator.cpuMs();
  const { durations, errors, bytes, elapsedSeconds, cpuMsPerAnswer, statementsPerAnswer } = await withServerCosts(server, () => run(settings.seconds));
  const simulatorAfter = simulator.cpuMs();
  durations.sort((one, other) => one - other);
  return {
    name: 'top-up flow (simulator in its own process)',
    rate: durations.length / elapsedSeconds,
    p50Ms: percentile(durations, 0.5),
    p99Ms: percentile(durations, 0.99),
    bytes: durations.length > 0 ? bytes / durations.length : 0,
    completed: durations.length,
    cpuMsPerAnswer,
    statementsPerAnswer,
    // No flow completed nor failed: one is stuck, which is broken, not slow.
    failures: errors.length > 0 || durations.length > 0 ? errors.length : 1,
    failureNote: errors.length > 0 ? `${errors.length}× e.g. ${errors[0]}` : durations.length === 0 ? `no flow ended in ${settings.seconds} s` : '',
    simulatorCpuMsPerFlow: simulatorBefore === null || simulatorAfter === null || durations.length === 0 ? null : (simulatorAfter - simulatorBefore) / durations.length,
    allFlows: { completed: warmUp.completed + durations.length, failed: warmUp.errors.length + errors.length },
  };
}
