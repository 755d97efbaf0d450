import type { Clock } from './domain/time/clock.js';

/** The one clock the process reads; everything below app.ts, server.ts and the CLI is handed a Clock. */
export const systemClock: Clock = { now: () => new Date() };
