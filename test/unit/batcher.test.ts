import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Batcher } from '../../src/core/batcher.js';

/** RecordingFlush records every batch and lets the test decide when each flush finishes. */
class RecordingFlush {
  readonly batches: number[][] = [];
  private readonly releases: (() => void)[] = [];
  /** When true, flushes finish only when `releaseNext` is called. */
  holding = false;
  failOn: (batch: number[]) => boolean = () => false;

  readonly flush = async (items: number[]): Promise<string[]> => {
    this.batches.push(items);
    if (this.holding) await new Promise<void>((resolve) => this.releases.push(resolve));
    if (this.failOn(items)) throw new Error(`flush of ${items.join(',')} failed`);
    return items.map((item) => `result ${item}`);
  };

  releaseNext(): void {
    this.releases.shift()?.();
  }

  /** untilBatches waits for the batcher to have started `count` flushes (it starts them on later ticks). */
  async untilBatches(count: number): Promise<void> {
    for (let tick = 0; this.batches.length < count; tick += 1) {
      assert.ok(tick < 100, `expected ${count} flushes, saw ${this.batches.length}`);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

describe('Batcher', () => {
  it('carries calls made in the same tick in one flush, each resolving with its own result', async () => {
    const recorder = new RecordingFlush();
    const batcher = new Batcher(recorder.flush, 100);
    const results = await Promise.all([1, 2, 3].map((item) => batcher.add(item)));
    assert.deepEqual(results, ['result 1', 'result 2', 'result 3']);
    assert.deepEqual(recorder.batches, [[1, 2, 3]]);
  });

  it('splits a large group into batches of at most maxBatch, in order', async () => {
    const recorder = new RecordingFlush();
    const batcher = new Batcher(recorder.flush, 2);
    const results = await Promise.all([1, 2, 3, 4, 5].map((item) => batcher.add(item)));
    assert.deepEqual(results, ['result 1', 'result 2', 'result 3', 'result 4', 'result 5']);
    assert.deepEqual(recorder.batches, [[1, 2], [3, 4], [5]]);
  });

  it('runs one flush at a time: calls made during a flush go together into the next', async () => {
    const recorder = new RecordingFlush();
    recorder.holding = true;
    const batcher = new Batcher(recorder.flush, 100);
    const settled: string[] = [];
    const first = batcher.add(1).then((result) => settled.push(result));
    await recorder.untilBatches(1);
    const later = [batcher.add(2), batcher.add(3)].map((call) => call.then((result) => settled.push(result)));
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(recorder.batches, [[1]], 'no second flush while the first is in flight');
    assert.deepEqual(settled, [], 'a call resolves only after its flush finished');

    recorder.releaseNext();
    await first;
    await recorder.untilBatches(2);
    assert.deepEqual(recorder.batches, [[1], [2, 3]]);
    recorder.releaseNext();
    await Promise.all(later);
    assert.deepEqual(settled, ['result 1', 'result 2', 'result 3']);
  });

  it('rejects only the calls of a failed flush, and keeps working', async () => {
    const recorder = new RecordingFlush();
    recorder.failOn = (batch) => batch.includes(2);
    const batcher = new Batcher(recorder.flush, 2);
    const outcomes = await Promise.allSettled([1, 2, 3].map((item) => batcher.add(item)));
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['rejected', 'rejected', 'fulfilled'],
    );
    assert.match(String((outcomes[0] as PromiseRejectedResult).reason), /flush of 1,2 failed/);
    assert.equal(await batcher.add(4), 'result 4');
  });

  it('idle resolves once everything added so far is flushed', async () => {
    const recorder = new RecordingFlush();
    recorder.holding = true;
    const batcher = new Batcher(recorder.flush, 100);
    await batcher.idle();
    let idle = false;
    void batcher.add(1);
    const waiting = batcher.idle().then(() => {
      idle = true;
    });
    await recorder.untilBatches(1);
    void batcher.add(2);
    recorder.releaseNext();
    await recorder.untilBatches(2);
    assert.equal(idle, false, 'the second flush is still in flight');
    recorder.releaseNext();
    await waiting;
    assert.deepEqual(recorder.batches, [[1], [2]]);
  });
});
