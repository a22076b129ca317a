import { defineTask } from '../../../src/core/index.js';
import type { ScheduleDefinition } from '../../../src/scheduler/index.js';

/** EVERY_SECOND_ID is the schedule the multi-process test's scheduler processes all declare. */
export const EVERY_SECOND_ID = 'every-second';

/** tickTask is the schedule's task; no worker runs it (the test counts enqueues, not runs). */
export const tickTask = defineTask('scheduler-test.tick', { handler: async () => null });

/**
 * EVERY_SECOND fires on every second. Coalescing is off and misfires have no limit so that a
 * tick delayed past the next second on a busy machine still enqueues each fire time: the test
 * is about each fire time enqueued exactly once, not about the misfire policy. No worker runs
 * the jobs, so max instances is far above the jobs of a minute.
 */
export const EVERY_SECOND: ScheduleDefinition = {
  task: tickTask,
  trigger: { kind: 'cron', expression: '* * * * * *' },
  coalesce: false,
  misfireGraceMs: null,
  maxInstances: 100_000,
};
