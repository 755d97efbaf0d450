/** Time, injected so that tests can move it (session timeouts, login locks). */
export interface Clock {
  now(): Date;
}
