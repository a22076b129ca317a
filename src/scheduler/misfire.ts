import type { Schedule } from '../types/index.js';
import { formatDuration, nextFireTime } from './trigger.js';

/** PlannedFire is what the fire loop does with one due fire time. */
export type PlannedFire =
  | { fireAt: Date; run: true }
  | { fireAt: Date; run: false; outcome: 'missed' | 'skipped'; reason: string };

/** FirePlan is the fire times due for a schedule and where its nextRunAt moves to. */
export interface FirePlan {
  fires: PlannedFire[];
  nextRunAt: Date | null;
}

/**
 * planFires applies APScheduler's misfire rules to the fire times of `schedule` that are due
 * at `now` (from its nextRunAt up to now, at most `limit` of them; the rest stay due for the
 * next tick):
 *
 * - a fire time more than `misfireGraceMs` before now is `missed` and does not run;
 * - with `coalesce`, of the fire times still within grace only the latest runs, the others
 *   are recorded `skipped` (coalesced); without it, each runs.
 */
export function planFires(
  schedule: Pick<Schedule, 'trigger' | 'nextRunAt' | 'misfireGraceMs' | 'coalesce'>,
  now: Date,
  limit: number,
): FirePlan {
  const due: Date[] = [];
  let next = schedule.nextRunAt;
  while (next !== null && next.getTime() <= now.getTime() && due.length < limit) {
    due.push(next);
    next = nextFireTime(schedule.trigger, next);
  }
  const grace = schedule.misfireGraceMs;
  const inGrace = due.filter((fireAt) => grace === null || now.getTime() - fireAt.getTime() <= grace);
  const runs = new Set(schedule.coalesce ? inGrace.slice(-1) : inGrace);
  const latest = inGrace.at(-1);
  const fires = due.map((fireAt): PlannedFire => {
    if (runs.has(fireAt)) return { fireAt, run: true };
    if (grace !== null && !inGrace.includes(fireAt)) {
      const late = formatDuration(now.getTime() - fireAt.getTime());
      return {
        fireAt,
        run: false,
        outcome: 'missed',
        reason: `late by ${late}, past the misfire grace of ${formatDuration(grace)}`,
      };
    }
    return { fireAt, run: false, outcome: 'skipped', reason: `coalesced into the run of ${latest?.toISOString()}` };
  });
  return { fires, nextRunAt: next };
}
