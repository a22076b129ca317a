import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError, type ValidationIssue } from '../../src/errors/index.js';
import { resolveScheduleDefinition } from '../../src/scheduler/definition.js';
import { planFires } from '../../src/scheduler/misfire.js';
import { describeTrigger, firstFireTime, nextFireTime, resolveTrigger, type TriggerInput } from '../../src/scheduler/trigger.js';
import type { Trigger } from '../../src/types/index.js';

function resolve(input: TriggerInput): { trigger: Trigger | undefined; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  return { trigger: resolveTrigger(input, 'trigger', issues), issues };
}

function cron(expression: string, timezone = 'UTC'): Trigger {
  const { trigger, issues } = resolve({ kind: 'cron', expression, timezone });
  assert.deepEqual(issues, []);
  assert.ok(trigger);
  return trigger;
}

/** fireTimes lists the next `count` fire times after `after`, as ISO strings. */
function fireTimes(trigger: Trigger, after: string, count: number): string[] {
  const times: string[] = [];
  let cursor: Date | null = new Date(after);
  while (times.length < count) {
    cursor = nextFireTime(trigger, cursor);
    if (cursor === null) break;
    times.push(cursor.toISOString());
  }
  return times;
}

describe('cron triggers', () => {
  it('fires strictly after the given time, in UTC by default', () => {
    const daily = cron('0 2 * * *');
    assert.deepEqual(fireTimes(daily, '2026-01-01T02:00:00.000Z', 2), ['2026-01-02T02:00:00.000Z', '2026-01-03T02:00:00.000Z']);
    assert.deepEqual(firstFireTime(daily, new Date('2026-01-01T02:00:00.000Z')), new Date('2026-01-01T02:00:00.000Z'));
  });

  it('accepts a leading seconds field', () => {
    assert.deepEqual(fireTimes(cron('*/15 * * * * *'), '2026-01-01T00:00:00.000Z', 3), [
      '2026-01-01T00:00:15.000Z',
      '2026-01-01T00:00:30.000Z',
      '2026-01-01T00:00:45.000Z',
    ]);
  });

  // The rule (croner's, after Vixie cron): a fixed-time job whose local time does not exist
  // (spring forward) runs right after the gap that day; one whose local time occurs twice
  // (fall back) runs once, at the first occurrence. Interval jobs skip the gap and run on
  // both passes of a repeated hour.
  describe('DST in America/New_York, 2026 (spring forward 8 March 02:00 -> 03:00, fall back 1 November 02:00 -> 01:00)', () => {
    const zone = 'America/New_York';
    it('02:30 daily on the spring-forward day runs at 03:00 EDT, right after the gap', () => {
      assert.deepEqual(fireTimes(cron('30 2 * * *', zone), '2026-03-07T12:00:00Z', 3), [
        '2026-03-08T07:00:00.000Z', // 03:00 EDT
        '2026-03-09T06:30:00.000Z', // 02:30 EDT
        '2026-03-10T06:30:00.000Z',
      ]);
    });
    it('02:30 daily on the fall-back day runs once (02:30 EST; 02:00-03:00 is not repeated)', () => {
      assert.deepEqual(fireTimes(cron('30 2 * * *', zone), '2026-10-31T12:00:00Z', 2), [
        '2026-11-01T07:30:00.000Z', // 02:30 EST
        '2026-11-02T07:30:00.000Z',
      ]);
    });
    it('01:30 daily on the fall-back day runs once, at the first 01:30 (EDT)', () => {
      assert.deepEqual(fireTimes(cron('30 1 * * *', zone), '2026-10-31T12:00:00Z', 2), [
        '2026-11-01T05:30:00.000Z',
        '2026-11-02T06:30:00.000Z',
      ]);
    });
    it('an every-30-minutes job runs on both passes of the repeated hour and skips the gap', () => {
      assert.deepEqual(fireTimes(cron('*/30 * * * *', zone), '2026-11-01T04:45:00Z', 6), [
        '2026-11-01T05:00:00.000Z', // 01:00 EDT
        '2026-11-01T05:30:00.000Z', // 01:30 EDT
        '2026-11-01T06:00:00.000Z', // 01:00 EST
        '2026-11-01T06:30:00.000Z', // 01:30 EST
        '2026-11-01T07:00:00.000Z', // 02:00 EST
        '2026-11-01T07:30:00.000Z',
      ]);
      assert.deepEqual(fireTimes(cron('*/30 * * * *', zone), '2026-03-08T06:15:00Z', 3), [
        '2026-03-08T06:30:00.000Z', // 01:30 EST
        '2026-03-08T07:00:00.000Z', // 03:00 EDT: 02:00 and 02:30 do not exist
        '2026-03-08T07:30:00.000Z',
      ]);
    });
  });

  describe('DST in Europe/London, 2026 (spring forward 29 March 01:00 -> 02:00, fall back 25 October 02:00 -> 01:00)', () => {
    const zone = 'Europe/London';
    it('02:30 daily is untouched on both days (London shifts the 01:00 hour)', () => {
      assert.deepEqual(fireTimes(cron('30 2 * * *', zone), '2026-03-28T12:00:00Z', 2), [
        '2026-03-29T01:30:00.000Z', // 02:30 BST
        '2026-03-30T01:30:00.000Z',
      ]);
      assert.deepEqual(fireTimes(cron('30 2 * * *', zone), '2026-10-24T12:00:00Z', 2), [
        '2026-10-25T02:30:00.000Z', // 02:30 GMT
        '2026-10-26T02:30:00.000Z',
      ]);
    });
    it('01:30 daily runs at 02:00 BST after the gap, and once on the fall-back day', () => {
      assert.deepEqual(fireTimes(cron('30 1 * * *', zone), '2026-03-28T12:00:00Z', 2), [
        '2026-03-29T01:00:00.000Z', // 02:00 BST
        '2026-03-30T00:30:00.000Z',
      ]);
      assert.deepEqual(fireTimes(cron('30 1 * * *', zone), '2026-10-24T12:00:00Z', 2), [
        '2026-10-25T00:30:00.000Z', // first 01:30 (BST)
        '2026-10-26T01:30:00.000Z',
      ]);
    });
  });
});

describe('every and at triggers', () => {
  it('anchors an interval at the epoch without startAt, else at startAt, and stops after endAt', () => {
    const hourly = resolve({ kind: 'every', everyMs: 3_600_000 }).trigger;
    assert.ok(hourly);
    assert.deepEqual(fireTimes(hourly, '2026-01-01T10:20:00Z', 2), ['2026-01-01T11:00:00.000Z', '2026-01-01T12:00:00.000Z']);
    const bounded = resolve({
      kind: 'every',
      everyMs: 90_000,
      startAt: new Date('2026-01-01T00:00:10Z'),
      endAt: '2026-01-01T00:03:10Z',
    }).trigger;
    assert.ok(bounded);
    assert.deepEqual(fireTimes(bounded, '2025-12-31T00:00:00Z', 5), [
      '2026-01-01T00:00:10.000Z',
      '2026-01-01T00:01:40.000Z',
      '2026-01-01T00:03:10.000Z',
    ]);
  });

  it('fires a one-off once; a past one keeps its time for the misfire rules', () => {
    const once = resolve({ kind: 'at', at: '2026-05-01T12:00:00+02:00' }).trigger;
    assert.deepEqual(once, { kind: 'at', at: '2026-05-01T10:00:00.000Z' });
    assert.ok(once);
    assert.deepEqual(fireTimes(once, '2026-01-01T00:00:00Z', 3), ['2026-05-01T10:00:00.000Z']);
    assert.deepEqual(firstFireTime(once, new Date('2026-06-01T00:00:00Z')), new Date('2026-05-01T10:00:00.000Z'));
  });
});

describe('trigger validation', () => {
  it('names the field of an invalid cron expression or time zone', () => {
    assert.deepEqual(
      resolve({ kind: 'cron', expression: '61 * * * *' }).issues.map((issue) => issue.path),
      ['trigger.expression'],
    );
    assert.deepEqual(
      resolve({ kind: 'cron', expression: '* * * *' }).issues.map((issue) => issue.path),
      ['trigger.expression'],
    );
    assert.deepEqual(
      resolve({ kind: 'cron', expression: '0 0 1 1 * 2027' }).issues.map((issue) => issue.path),
      ['trigger.expression'],
      'the year field is not offered',
    );
    assert.deepEqual(
      resolve({ kind: 'cron', expression: '0 2 * * *', timezone: 'Mars/Olympus_Mons' }).issues.map((issue) => issue.path),
      ['trigger.timezone'],
    );
    assert.deepEqual(
      resolve({ kind: 'every', everyMs: 10, endAt: 'soon' }).issues.map((issue) => issue.path),
      ['trigger.everyMs', 'trigger.endAt'],
    );
    assert.deepEqual(
      resolve({ kind: 'nope' } as never).issues.map((issue) => issue.path),
      ['trigger.kind'],
    );
  });

  it('rejects a whole definition with one ValidationError listing each field', () => {
    assert.throws(
      () =>
        resolveScheduleDefinition('nightly', {
          task: 'sync',
          trigger: { kind: 'cron', expression: 'every day', timezone: 'Nowhere/City' },
          maxInstances: 0,
        }),
      (error: unknown) =>
        error instanceof ValidationError && error.issues.map((issue) => issue.path).join() === 'trigger.timezone,maxInstances',
    );
  });
});

describe('describeTrigger', () => {
  it('writes cron triggers as APScheduler does', () => {
    assert.equal(describeTrigger(cron('0 2 * * *')), "cron[hour='2', minute='0']");
    assert.equal(describeTrigger(cron('0 * * * *')), "cron[minute='0']");
    assert.equal(
      describeTrigger(cron('*/10 30 2 * * mon-fri', 'Europe/London')),
      "cron[day_of_week='mon-fri', hour='2', minute='30', second='*/10', timezone='Europe/London']",
    );
  });
  it('writes intervals and one-offs readably', () => {
    assert.equal(describeTrigger({ kind: 'every', everyMs: 3_600_000 }), 'interval[1:00:00]');
    assert.equal(describeTrigger({ kind: 'every', everyMs: 90_061_500 }), 'interval[1 day, 1:01:01.500]');
    assert.equal(describeTrigger({ kind: 'at', at: '2026-05-01T10:00:00.000Z' }), 'date[2026-05-01T10:00:00.000Z]');
  });
});

describe('misfire rules', () => {
  const everyMinute = cron('* * * * *');
  const base = { trigger: everyMinute, nextRunAt: new Date('2026-01-01T00:00:00Z') };
  const now = new Date('2026-01-01T00:04:30Z');

  it('runs every due fire time within grace without coalesce', () => {
    const plan = planFires({ ...base, misfireGraceMs: null, coalesce: false }, now, 100);
    assert.deepEqual(
      plan.fires.map((fire) => fire.run),
      [true, true, true, true, true],
    );
    assert.deepEqual(plan.nextRunAt, new Date('2026-01-01T00:05:00Z'));
  });

  it('collapses the due fire times within grace into the latest with coalesce', () => {
    const plan = planFires({ ...base, misfireGraceMs: null, coalesce: true }, now, 100);
    assert.deepEqual(
      plan.fires.map((fire) => (fire.run ? 'run' : fire.outcome)),
      ['skipped', 'skipped', 'skipped', 'skipped', 'run'],
    );
  });

  it('records fire times past the grace as missed', () => {
    const plan = planFires({ ...base, misfireGraceMs: 120_000, coalesce: true }, now, 100);
    assert.deepEqual(
      plan.fires.map((fire) => (fire.run ? 'run' : fire.outcome)),
      ['missed', 'missed', 'missed', 'skipped', 'run'],
    );
    const [first] = plan.fires;
    assert.ok(first && !first.run);
    assert.equal(first.reason, 'late by 0:04:30, past the misfire grace of 0:02:00');
  });

  it('handles at most `limit` fire times and leaves the rest due', () => {
    const plan = planFires({ ...base, misfireGraceMs: null, coalesce: false }, now, 2);
    assert.equal(plan.fires.length, 2);
    assert.deepEqual(plan.nextRunAt, new Date('2026-01-01T00:02:00Z'));
  });
});
