import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ValidationError } from '../../src/errors/index.js';
import type { RateLimitTakeParams, RateLimitTakeResult, Store } from '../../src/store/index.js';
import { later, type MakeStore, useFreshStore } from './fixtures.js';

const T0 = new Date('2026-03-01T12:00:00.000Z');
const FIVE_PER_300S = { key: 'user:ada', limit: 5, windowMs: 300_000 };

/** takeMany takes one unit `count` times in a row at `now` and returns the results in order. */
async function takeMany(store: Store, count: number, params: Omit<RateLimitTakeParams, 'now'>, now: Date) {
  const results: RateLimitTakeResult[] = [];
  for (let index = 0; index < count; index++) results.push(await store.rateLimitTake({ ...params, now }));
  return results;
}

export function rateLimitSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  it('admits `limit` takes at once, then refuses with the time until one unit is back', async () => {
    const results = await takeMany(store(), 6, FIVE_PER_300S, T0);
    assert.deepEqual(
      results.map(({ allowed, remaining }) => ({ allowed, remaining })),
      [
        { allowed: true, remaining: 4 },
        { allowed: true, remaining: 3 },
        { allowed: true, remaining: 2 },
        { allowed: true, remaining: 1 },
        { allowed: true, remaining: 0 },
        { allowed: false, remaining: 0 },
      ],
    );
    assert.deepEqual(results[0], { allowed: true, limit: 5, remaining: 4, resetAt: later(T0, 60_000), retryAfterMs: 0 });
    assert.deepEqual(results[5], { allowed: false, limit: 5, remaining: 0, resetAt: later(T0, 300_000), retryAfterMs: 60_000 });
  });

  it('gives one unit back per window / limit and every unit after a quiet window', async () => {
    await takeMany(store(), 5, FIVE_PER_300S, T0);
    const early = await store().rateLimitTake({ ...FIVE_PER_300S, now: later(T0, 59_999) });
    assert.equal(early.allowed, false);
    assert.equal(early.retryAfterMs, 1);
    const oneBack = await takeMany(store(), 2, FIVE_PER_300S, later(T0, 60_000));
    assert.deepEqual(
      oneBack.map((result) => result.allowed),
      [true, false],
    );
    // The last unit taken at T0 + 60 s is back 300 s after that take.
    const whole = await takeMany(store(), 6, FIVE_PER_300S, later(T0, 360_000));
    assert.deepEqual(
      whole.map((result) => result.allowed),
      [true, true, true, true, true, false],
    );
  });

  it('spends nothing on a refused take, so knocking on does not lock the caller out longer', async () => {
    await takeMany(store(), 5, FIVE_PER_300S, T0);
    for (let second = 1; second < 60; second++) {
      assert.equal((await store().rateLimitTake({ ...FIVE_PER_300S, now: later(T0, second * 1000) })).allowed, false);
    }
    assert.equal((await store().rateLimitTake({ ...FIVE_PER_300S, now: later(T0, 60_000) })).allowed, true);
  });

  it('keeps keys apart', async () => {
    await takeMany(store(), 5, FIVE_PER_300S, T0);
    assert.equal((await store().rateLimitTake({ ...FIVE_PER_300S, now: T0 })).allowed, false);
    const other = await store().rateLimitTake({ ...FIVE_PER_300S, key: 'user:grace', now: T0 });
    assert.deepEqual([other.allowed, other.remaining], [true, 4]);
  });

  it('takes several units at once (cost) and peeks with cost 0', async () => {
    const three = await store().rateLimitTake({ ...FIVE_PER_300S, cost: 3, now: T0 });
    assert.deepEqual([three.allowed, three.remaining], [true, 2]);
    const tooMany = await store().rateLimitTake({ ...FIVE_PER_300S, cost: 3, now: T0 });
    assert.deepEqual([tooMany.allowed, tooMany.remaining, tooMany.retryAfterMs], [false, 2, 60_000]);
    const peek = await store().rateLimitTake({ ...FIVE_PER_300S, cost: 0, now: T0 });
    assert.deepEqual(peek, { allowed: true, limit: 5, remaining: 2, resetAt: later(T0, 180_000), retryAfterMs: 0 });
    const fresh = await store().rateLimitTake({ ...FIVE_PER_300S, key: 'never-used', cost: 0, now: T0 });
    assert.deepEqual(fresh, { allowed: true, limit: 5, remaining: 5, resetAt: T0, retryAfterMs: 0 });
  });

  it('never admits more than `limit` at once when the window does not divide by it', async () => {
    // 7 per second: a unit every ceil(1000 / 7) = 143 ms, whole again after 1001 ms.
    const params = { key: 'odd', limit: 7, windowMs: 1000 };
    const burst = await takeMany(store(), 8, params, T0);
    assert.deepEqual(
      burst.map((result) => result.allowed),
      [true, true, true, true, true, true, true, false],
    );
    assert.equal(burst[7]?.retryAfterMs, 143);
    assert.equal((await store().rateLimitTake({ ...params, now: later(T0, 142) })).allowed, false);
    const whole = await takeMany(store(), 8, params, later(T0, 1001));
    assert.equal(whole.filter((result) => result.allowed).length, 7);
  });

  it('admits exactly `limit` of many concurrent takes', async () => {
    const params = { key: 'busy', limit: 13, windowMs: 60_000, now: T0 };
    const results = await Promise.all(Array.from({ length: 60 }, () => store().rateLimitTake(params)));
    assert.equal(results.filter((result) => result.allowed).length, 13);
    assert.deepEqual(
      results
        .filter((result) => result.allowed)
        .map((result) => result.remaining)
        .sort((a, b) => a - b),
      Array.from({ length: 13 }, (_, index) => index),
    );
  });

  it('reports nothing remaining, not less, when a caller clock runs behind', async () => {
    await takeMany(store(), 5, FIVE_PER_300S, T0);
    const behind = await store().rateLimitTake({ ...FIVE_PER_300S, now: later(T0, -120_000) });
    assert.deepEqual([behind.allowed, behind.remaining, behind.retryAfterMs], [false, 0, 180_000]);
  });

  it('prunes only keys that are whole again, which then answer as keys never used', async () => {
    await takeMany(store(), 5, FIVE_PER_300S, T0);
    await store().rateLimitTake({ key: 'short', limit: 1, windowMs: 1000, now: T0 });
    assert.equal(await store().rateLimitPrune({ now: later(T0, 999) }), 0);
    assert.equal(await store().rateLimitPrune({ now: later(T0, 1000) }), 1);
    assert.equal((await store().rateLimitTake({ ...FIVE_PER_300S, now: later(T0, 1000) })).allowed, false, 'kept');
    assert.equal(await store().rateLimitPrune({ now: later(T0, 300_000) }), 1);
    const fresh = await store().rateLimitTake({ ...FIVE_PER_300S, now: later(T0, 300_000) });
    assert.deepEqual([fresh.allowed, fresh.remaining], [true, 4]);
    assert.equal(await store().rateLimitPrune({ now: later(T0, 300_000) }), 0);
  });

  it('refuses bad keys, limits, windows and costs with ValidationError', async () => {
    const bad: [Partial<RateLimitTakeParams>, string][] = [
      [{ key: '' }, 'key'],
      [{ key: 'x'.repeat(1025) }, 'key'],
      [{ limit: 0 }, 'limit'],
      [{ limit: 1.5 }, 'limit'],
      [{ windowMs: 0 }, 'windowMs'],
      [{ windowMs: Number.NaN }, 'windowMs'],
      [{ cost: 6 }, 'cost'],
      [{ cost: -1 }, 'cost'],
      [{ now: new Date(Number.NaN) }, 'now'],
    ];
    for (const [override, path] of bad) {
      await assert.rejects(
        store().rateLimitTake({ ...FIVE_PER_300S, now: T0, ...override }),
        (error: unknown) => error instanceof ValidationError && error.issues.some((issue) => issue.path === path),
        `${JSON.stringify(override)} names ${path}`,
      );
    }
  });
}
