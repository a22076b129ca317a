/** Clock is the source of "now" for stores, workers and the scheduler; tests inject a fake one. */
export interface Clock {
  now(): Date;
}

/** systemClock reads the machine's wall clock. */
export const systemClock: Clock = { now: () => new Date() };
