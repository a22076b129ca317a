import { defineTask } from '../../../src/core/index.js';
import { sleep } from '../../../src/core/sleep.js';
import type { Ledger } from './ledger.js';

/** ProbePayload says how long one run of the probe task lasts. */
export interface ProbePayload {
  sleepMs: number;
  /**
   * Block the event loop instead of waiting on a timer: the run then goes from its start to
   * its return without yielding, so a SIGSTOP inside it is followed, on SIGCONT, by the
   * attempt's settle before any timer (heartbeat) of the worker can notice a lost lease.
   */
  blocking?: boolean;
}

/** ProbeResult names the run that completed the job. */
export interface ProbeResult {
  pid: number;
  attempt: number;
}

/**
 * probeTask is the task of the fault tests: every run records its start and finish in the
 * ledger. The tests define it too, only to enqueue: their clients never start a worker.
 */
export function probeTask(ledger: Ledger) {
  return defineTask('fault-probe', {
    handler: async (payload: ProbePayload, { job }): Promise<ProbeResult> => {
      const run = ledger.recordStart(job.id, job.attempt);
      if (payload.blocking) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, payload.sleepMs);
      else await sleep(payload.sleepMs);
      ledger.recordFinish(run);
      return { pid: process.pid, attempt: job.attempt };
    },
  });
}

/** probePayloads builds `count` payloads sleeping a random time from `minMs` to `maxMs`. */
export function probePayloads(count: number, minMs: number, maxMs: number): ProbePayload[] {
  return Array.from({ length: count }, () => ({ sleepMs: minMs + Math.floor(Math.random() * (maxMs - minMs + 1)) }));
}

/** PIPELINE_STEPS are the durable steps of pipelineTask, in order. */
export const PIPELINE_STEPS = ['sync', 'analyze', 'cluster', 'trends'] as const;

/**
 * pipelineTask is the durable-steps task of the fault tests: four steps that each record
 * their work in the ledger and add to a running total. In its first attempt the third step
 * blocks until the process is killed.
 */
export function pipelineTask(ledger: Ledger) {
  return defineTask('fault-pipeline', {
    steps: PIPELINE_STEPS,
    handler: async (payload: { base: number }, { job, step }) => {
      let total = payload.base;
      for (const [index, name] of PIPELINE_STEPS.entries()) {
        total = await step(name, async () => {
          ledger.recordStep(job.id, name, 'started');
          if (name === 'cluster' && job.attempt === 1) await new Promise(() => {});
          ledger.recordStep(job.id, name, 'finished');
          return total * 10 + index + 1;
        });
      }
      return { total };
    },
  });
}
