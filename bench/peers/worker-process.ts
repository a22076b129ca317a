/**
 * A worker process of the harness: it attaches to a queue the parent set up, waits for
 * `start`, runs the adapter's worker with a handler that counts jobs (and records the
 * enqueue-to-start latency of each), reports progress every few ms, and on `stop` stops
 * the worker gracefully and sends its totals. Started by processes.ts, never by hand.
 */
import { type AdapterPlace, type BenchPayload, machineClockMs } from './adapter.js';
import { ADAPTERS, type AdapterName } from './adapters/index.js';
import type { ChildMessage, ParentMessage } from './processes.js';

const [name, placeJson, concurrencyText] = process.argv.slice(2);
const adapter = ADAPTERS[name as AdapterName](JSON.parse(placeJson as string) as AdapterPlace);
const concurrency = Number(concurrencyText);

const send = (message: ChildMessage) => process.send?.(message);
const latencies: number[] = [];
let handled = 0;
let lastHandledAt = 0;
let reported = 0;

function handler(payload: BenchPayload): void {
  lastHandledAt = machineClockMs();
  latencies.push(lastHandledAt - payload.sentAt);
  handled += 1;
}

// Progress in small steps lets the parent see the last job of a drain within a few ms.
const progress = setInterval(() => {
  if (handled === reported) return;
  reported = handled;
  send({ type: 'progress', handled, lastHandledAt });
}, 5);

process.on('message', async (message: ParentMessage) => {
  try {
    if (message.type === 'start') {
      send({ type: 'starting', at: machineClockMs() });
      await adapter.startWorker({ concurrency, handler });
    } else {
      await adapter.stopWorker();
      clearInterval(progress);
      await adapter.close({ drop: false });
      // Exit once the message is on its way (rather than waiting for idle pools): this also
      // lets --cpu-prof write its profile.
      process.send?.({ type: 'stopped', handled, lastHandledAt, latencies } satisfies ChildMessage, () => process.exit(0));
    }
  } catch (error) {
    send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});

try {
  await adapter.attach();
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
