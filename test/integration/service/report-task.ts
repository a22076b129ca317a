import { defineTask } from '../../../src/core/index.js';

/** buildReport reports progress twice before it completes (for the event stream tests, in and out of process). */
export const buildReport = defineTask('report.build', {
  queue: 'reports',
  handler: async (_payload: unknown, { progress }) => {
    await progress(0.5, 'half way');
    await progress(1, 'written');
    return { pages: 2 };
  },
});
