import type { Clock } from '../../src/types/index.js';

/** FakeClock is a Clock that moves only when a test moves it. */
export class FakeClock implements Clock {
  private current: number;

  constructor(start: Date | string) {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  /** set moves the clock to `time` (forward or back). */
  set(time: Date | string): void {
    this.current = new Date(time).getTime();
  }

  /** advance moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.current += ms;
  }
}
