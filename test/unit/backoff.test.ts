import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_BACKOFF, retryDelayMs } from '../../src/core/backoff.js';

/** Random sources pinned to the ends and the middle of Math.random's range. */
const LOWEST = () => 0;
const MIDDLE = () => 0.5;
const HIGHEST = () => 1;

describe('retryDelayMs', () => {
  it('doubles an exponential delay per attempt from baseMs', () => {
    const backoff = { type: 'exponential', baseMs: 100, jitter: 0 } as const;
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((attempt) => retryDelayMs(backoff, attempt, new Error('x'))),
      [100, 200, 400, 800, 1600],
    );
  });

  it('caps an exponential delay at maxMs, even for huge attempt numbers', () => {
    const backoff = { type: 'exponential', baseMs: 1000, maxMs: 5000, jitter: 0 } as const;
    assert.equal(retryDelayMs(backoff, 3, null), 4000);
    assert.equal(retryDelayMs(backoff, 4, null), 5000);
    assert.equal(retryDelayMs(backoff, 1000, null), 5000);
  });

  it('spreads the delay by the jitter fraction either way, using the injected random', () => {
    const backoff = { type: 'exponential', baseMs: 1000, jitter: 0.2 } as const;
    assert.equal(retryDelayMs(backoff, 1, null, LOWEST), 800);
    assert.equal(retryDelayMs(backoff, 1, null, MIDDLE), 1000);
    assert.equal(retryDelayMs(backoff, 1, null, HIGHEST), 1200);
    assert.equal(
      retryDelayMs(backoff, 2, null, () => 0.25),
      1800,
    );
  });

  it('defaults to 1 s doubling with ±20% jitter', () => {
    assert.deepEqual(DEFAULT_BACKOFF, { type: 'exponential', baseMs: 1000, maxMs: 3_600_000, jitter: 0.2 });
    assert.equal(retryDelayMs({ type: 'exponential' }, 1, null, MIDDLE), 1000);
    assert.equal(retryDelayMs({ type: 'exponential' }, 3, null, LOWEST), 3200);
    assert.equal(retryDelayMs({ type: 'exponential' }, 30, null, HIGHEST), 4_320_000, 'the 1 h cap, plus jitter');
  });

  it('waits a fixed delay after every attempt, without jitter unless asked', () => {
    assert.deepEqual(
      [1, 2, 10].map((attempt) => retryDelayMs({ type: 'fixed', delayMs: 250 }, attempt, null, HIGHEST)),
      [250, 250, 250],
    );
    assert.equal(retryDelayMs({ type: 'fixed', delayMs: 250, jitter: 0.5 }, 1, null, LOWEST), 125);
  });

  it('calls a backoff function with the failed attempt and its error, rounding and never going negative', () => {
    const calls: [number, unknown][] = [];
    const error = new Error('rate limited');
    const backoff = (attempt: number, cause: unknown) => {
      calls.push([attempt, cause]);
      return attempt * 10.6 - 15;
    };
    assert.equal(retryDelayMs(backoff, 1, error), 0);
    assert.equal(retryDelayMs(backoff, 3, error), 17);
    assert.deepEqual(calls, [
      [1, error],
      [3, error],
    ]);
  });
});
