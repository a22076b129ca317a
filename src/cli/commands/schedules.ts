import type { Command } from 'commander';
import { ValidationError, type ValidationIssue } from '../../errors/index.js';
import {
  describeTrigger,
  localTime,
  nextFireTimes,
  resolveTrigger,
  Scheduler,
  type TriggerInput,
} from '../../scheduler/index.js';
import type { Schedule } from '../../types/index.js';
import { type GlobalOptions, withClient } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { parseDuration, parseInteger, print, table, time } from '../output.js';

function scheduleRow(schedule: Schedule): string[] {
  return [
    schedule.id,
    schedule.task,
    describeTrigger(schedule.trigger),
    schedule.paused ? 'paused' : 'active',
    time(schedule.nextRunAt),
    time(schedule.lastRunAt),
  ];
}

/** withScheduler runs `work` with a scheduler (not started) on the configured store. */
function withScheduler<T>(options: GlobalOptions, work: (scheduler: Scheduler) => Promise<T>): Promise<T> {
  return withClient(options, ({ client, config }) => work(new Scheduler(client, config.scheduler)));
}

interface PreviewOptions extends GlobalOptions {
  cron?: string;
  tz?: string;
  every?: number;
  at?: string;
  count: number;
  from?: string;
}

/** triggerOfFlags builds the trigger of `schedules preview` from exactly one of --cron, --every, --at. */
function triggerOfFlags(options: PreviewOptions): TriggerInput {
  const given = [options.cron, options.every, options.at].filter((value) => value !== undefined).length;
  if (given !== 1) throw new UsageError('schedules preview needs exactly one of --cron, --every or --at');
  if (options.tz !== undefined && options.cron === undefined) throw new UsageError('--tz applies to --cron only');
  if (options.cron !== undefined)
    return { kind: 'cron', expression: options.cron, ...(options.tz ? { timezone: options.tz } : {}) };
  if (options.every !== undefined) return { kind: 'every', everyMs: options.every };
  return { kind: 'at', at: options.at as string };
}

/** registerSchedules adds `schedules ls|pause|resume|run|preview`. */
export function registerSchedules(program: Command): void {
  const schedules = program.command('schedules').description('List, pause, resume and run schedules; preview triggers');

  schedules
    .command('ls')
    .description('List schedules by id, with their next run')
    .action(async (_options, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const listed = await withScheduler(options, (scheduler) => scheduler.listSchedules());
      print(options.json, listed, (all) =>
        table(['ID', 'TASK', 'TRIGGER', 'STATE', 'NEXT RUN', 'LAST RUN'], all.map(scheduleRow)),
      );
    });

  const steps = [
    { name: 'pause', description: 'Pause a schedule: it stops firing', apply: 'pauseSchedule' },
    { name: 'resume', description: 'Resume a schedule from its next fire time after now', apply: 'resumeSchedule' },
  ] as const;
  for (const step of steps) {
    schedules
      .command(step.name)
      .description(step.description)
      .argument('<id>', 'schedule id')
      .action(async (id: string, _options, command: Command) => {
        const options = command.optsWithGlobals<GlobalOptions>();
        const schedule = await withScheduler(options, (scheduler) => scheduler[step.apply](id));
        print(
          options.json,
          schedule,
          (changed) => `${changed.id} ${changed.paused ? 'paused' : `active, next run ${time(changed.nextRunAt)}`}`,
        );
      });
  }

  schedules
    .command('run')
    .description('Enqueue one job of a schedule now (within its max instances)')
    .argument('<id>', 'schedule id')
    .action(async (id: string, _options, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const run = await withScheduler(options, (scheduler) => scheduler.runScheduleNow(id));
      print(options.json, run, ({ fire, job }) =>
        job ? `enqueued ${job.id}` : `not enqueued: ${fire?.reason ?? 'a manual run was already recorded at this instant'}`,
      );
    });

  schedules
    .command('preview')
    .description('Print the next fire times of a trigger (needs no store)')
    .option('--cron <expression>', 'a cron expression of 5 fields (or 6 with leading seconds)')
    .option('--tz <zone>', 'IANA time zone of --cron (default UTC)')
    .option('--every <duration>', 'an interval, e.g. 90s or 1h', parseDuration('--every'))
    .option('--at <time>', 'one instant, ISO 8601')
    .option('--count <n>', 'how many fire times', parseInteger('--count', 1, 100), 5)
    .option('--from <time>', 'fire times after this instant, ISO 8601 (default now)')
    .action((_options, command: Command) => {
      const options = command.optsWithGlobals<PreviewOptions>();
      const issues: ValidationIssue[] = [];
      const trigger = resolveTrigger(triggerOfFlags(options), 'trigger', issues);
      const from = options.from === undefined ? new Date() : new Date(options.from);
      if (Number.isNaN(from.getTime())) issues.push({ path: 'from', message: 'expected an ISO 8601 time' });
      if (trigger === undefined || issues.length > 0) throw new ValidationError('Invalid trigger', issues);
      const zone = trigger.kind === 'cron' ? trigger.timezone : 'UTC';
      const preview = {
        trigger,
        description: describeTrigger(trigger),
        fireTimes: nextFireTimes(trigger, from, options.count).map((at) => ({
          at: at.toISOString(),
          local: localTime(at, zone),
        })),
      };
      print(options.json, preview, ({ description, fireTimes }) =>
        [description, ...fireTimes.map(({ at, local }) => `${local}  (${at})`)].join('\n'),
      );
    });
}
