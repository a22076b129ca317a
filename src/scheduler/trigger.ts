import { Cron } from 'croner';
import type { ValidationIssue } from '../errors/index.js';
import type { Trigger } from '../types/index.js';

/**
 * TriggerInput is a trigger as code declares it: times may be Dates or ISO 8601 strings, and
 * a cron time zone defaults to UTC. See Trigger for the meaning of each kind.
 */
export type TriggerInput =
  | { kind: 'cron'; expression: string; timezone?: string }
  | { kind: 'every'; everyMs: number; startAt?: Date | string; endAt?: Date | string }
  | { kind: 'at'; at: Date | string };

/** Longest interval an `every` trigger accepts: 366 days. */
const MAX_EVERY_MS = 366 * 24 * 3600 * 1000;

// A cron expression is parsed once per (expression, zone); the fire loop asks for the next
// time of the same few schedules over and over.
const cronCache = new Map<string, Cron>();

function cronOf(expression: string, timezone: string): Cron {
  const key = `${timezone} ${expression}`;
  let cron = cronCache.get(key);
  if (cron === undefined) {
    // 5 fields (minutes) or 6 (leading seconds); croner's 7th (year) field is not offered.
    cron = new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts' });
    cronCache.set(key, cron);
  }
  return cron;
}

/** isTimeZone tells whether the runtime knows `zone` as an IANA time zone. */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function isoDate(value: unknown, path: string, issues: ValidationIssue[]): string | undefined {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    issues.push({ path, message: 'expected a Date or an ISO 8601 string' });
    return undefined;
  }
  return date.toISOString();
}

/**
 * resolveTrigger checks a declared trigger and returns it in stored form (UTC ISO strings,
 * time zone filled in). Problems are added to `issues` under `path` (e.g.
 * `trigger.expression`, `trigger.timezone`); the result is then undefined.
 */
export function resolveTrigger(input: TriggerInput, path: string, issues: ValidationIssue[]): Trigger | undefined {
  const before = issues.length;
  const kind = (input as { kind?: unknown } | null)?.kind;
  if (kind === 'cron') {
    const { expression } = input as { expression: unknown };
    const timezone = (input as { timezone?: unknown }).timezone ?? 'UTC';
    if (typeof timezone !== 'string' || !isTimeZone(timezone)) {
      issues.push({
        path: `${path}.timezone`,
        message: `expected an IANA time zone such as "Europe/London", got ${JSON.stringify(timezone)}`,
      });
    }
    if (typeof expression !== 'string') {
      issues.push({ path: `${path}.expression`, message: 'expected a cron expression of 5 or 6 fields' });
    } else if (issues.length === before) {
      try {
        cronOf(expression, timezone as string);
      } catch (error) {
        issues.push({
          path: `${path}.expression`,
          message: `invalid cron expression ${JSON.stringify(expression)}: ${(error as Error).message}`,
        });
      }
    }
    return issues.length === before ? { kind, expression: expression as string, timezone: timezone as string } : undefined;
  }
  if (kind === 'every') {
    const every = input as { everyMs: unknown; startAt?: unknown; endAt?: unknown };
    if (
      typeof every.everyMs !== 'number' ||
      !Number.isInteger(every.everyMs) ||
      every.everyMs < 1000 ||
      every.everyMs > MAX_EVERY_MS
    ) {
      issues.push({ path: `${path}.everyMs`, message: `expected an integer from 1000 to ${MAX_EVERY_MS} (milliseconds)` });
    }
    const startAt = every.startAt === undefined ? undefined : isoDate(every.startAt, `${path}.startAt`, issues);
    const endAt = every.endAt === undefined ? undefined : isoDate(every.endAt, `${path}.endAt`, issues);
    if (startAt !== undefined && endAt !== undefined && endAt < startAt) {
      issues.push({ path: `${path}.endAt`, message: 'must not be before startAt' });
    }
    if (issues.length > before) return undefined;
    return {
      kind,
      everyMs: every.everyMs as number,
      ...(startAt === undefined ? {} : { startAt }),
      ...(endAt === undefined ? {} : { endAt }),
    };
  }
  if (kind === 'at') {
    const at = isoDate((input as { at: unknown }).at, `${path}.at`, issues);
    return at === undefined ? undefined : { kind, at };
  }
  issues.push({ path: `${path}.kind`, message: "expected 'cron', 'every' or 'at'" });
  return undefined;
}

/**
 * nextFireTime returns the first fire time strictly after `after`, or null when the trigger
 * will not fire again. Cron times follow croner's DST rule (docs/scheduler.md): a fixed-time
 * job whose local time falls in a spring-forward gap fires right after the gap, and once on
 * a repeated fall-back hour; an interval job (wildcard, step, range or list in its time
 * fields) skips times in the gap and fires on both passes of a repeated hour.
 */
export function nextFireTime(trigger: Trigger, after: Date): Date | null {
  switch (trigger.kind) {
    case 'cron':
      return cronOf(trigger.expression, trigger.timezone).nextRun(after);
    case 'every': {
      // Without startAt, the interval is anchored at the Unix epoch: stateless and the same
      // in every process (hourly fires on the hour UTC).
      const start = trigger.startAt === undefined ? 0 : Date.parse(trigger.startAt);
      const time = after.getTime();
      const next = time < start ? start : start + (Math.floor((time - start) / trigger.everyMs) + 1) * trigger.everyMs;
      return trigger.endAt !== undefined && next > Date.parse(trigger.endAt) ? null : new Date(next);
    }
    case 'at': {
      const at = new Date(trigger.at);
      return at.getTime() > after.getTime() ? at : null;
    }
  }
}

/**
 * firstFireTime is where a new or resumed schedule starts: the first fire time at or after
 * `now`; a one-off (`at`) keeps its time even when it passed, so the misfire rules decide
 * whether it still runs.
 */
export function firstFireTime(trigger: Trigger, now: Date): Date | null {
  if (trigger.kind === 'at') return new Date(trigger.at);
  return nextFireTime(trigger, new Date(now.getTime() - 1));
}

// APScheduler's CronTrigger field names, in the order its description lists them.
const CRON_FIELD_NAMES = ['month', 'day', 'day_of_week', 'hour', 'minute', 'second'] as const;

/**
 * describeTrigger returns a short text for status pages, in APScheduler's style: cron
 * triggers list their non-wildcard fields, e.g. `cron[hour='2', minute='0']` for
 * `0 2 * * *` (a zone other than UTC is added as `timezone='...'`); intervals read
 * `interval[1:00:00]`, one-offs `date[2026-03-08T07:00:00.000Z]`.
 */
export function describeTrigger(trigger: Trigger): string {
  switch (trigger.kind) {
    case 'cron': {
      const fields = trigger.expression.trim().split(/\s+/);
      const [second, minute, hour, day, month, dayOfWeek] = fields.length === 6 ? fields : ['0', ...fields];
      const values = { month, day, day_of_week: dayOfWeek, hour, minute, second };
      const parts = CRON_FIELD_NAMES.filter((name) => {
        const value = values[name];
        // A 5-field expression has no seconds; APScheduler lists second only when it is set.
        return value !== undefined && value !== '*' && value !== '?' && !(name === 'second' && value === '0');
      }).map((name) => `${name}='${values[name]}'`);
      if (trigger.timezone !== 'UTC') parts.push(`timezone='${trigger.timezone}'`);
      return `cron[${parts.join(', ')}]`;
    }
    case 'every': {
      const bounds = [
        trigger.startAt === undefined ? [] : [`start='${trigger.startAt}'`],
        trigger.endAt === undefined ? [] : [`end='${trigger.endAt}'`],
      ].flat();
      return `interval[${[formatDuration(trigger.everyMs), ...bounds].join(', ')}]`;
    }
    case 'at':
      return `date[${trigger.at}]`;
  }
}

/** formatDuration writes milliseconds as Python's timedelta does: `[D day(s), ]H:MM:SS[.mmm]`. */
export function formatDuration(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  const rest = ms % 86_400_000;
  const hours = Math.floor(rest / 3_600_000);
  const minutes = Math.floor((rest % 3_600_000) / 60_000);
  const seconds = Math.floor((rest % 60_000) / 1000);
  const millis = rest % 1000;
  const clock = `${hours}:${String(minutes).padStart(2, '0')}:${String(seconds).padStart(2, '0')}${millis ? `.${String(millis).padStart(3, '0')}` : ''}`;
  return days > 0 ? `${days} day${days === 1 ? '' : 's'}, ${clock}` : clock;
}

/** nextFireTimes lists up to `count` fire times of a trigger after `from` (and before `until`, when given): a preview. */
export function nextFireTimes(trigger: Trigger, from: Date, count: number, until?: Date): Date[] {
  const times: Date[] = [];
  let after = from;
  while (times.length < count) {
    const next = nextFireTime(trigger, after);
    if (next === null || (until !== undefined && next >= until)) break;
    times.push(next);
    after = next;
  }
  return times;
}

/** localTime writes an instant as local ISO 8601 time in `zone` with its UTC offset, e.g. `2026-03-08T03:30:00-04:00`. */
export function localTime(at: Date, zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    })
      .formatToParts(at)
      .map((part) => [part.type, part.value]),
  );
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : String(parts.timeZoneName).replace('GMT', '');
  const millis = at.getUTCMilliseconds() ? `.${String(at.getUTCMilliseconds()).padStart(3, '0')}` : '';
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${millis}${offset}`;
}
