import type { Command } from 'commander';
import type { ListJobsOptions } from '../../core/index.js';
import { OptionChecker } from '../../core/validation.js';
import { JobNotFoundError } from '../../errors/index.js';
import { resolveAuditOptions } from '../../service/audit.js';
import { pruneServiceRecords } from '../../service/index.js';
import type { Job } from '../../types/index.js';
import { type GlobalOptions, withClient } from '../context.js';
import { parseDuration, parseInteger, parseJson, parseList, print, table, time } from '../output.js';

/** jobLine is one job in a listing. */
function jobRow(job: Job): string[] {
  return [job.id, job.status, job.queue, job.task, `${job.attempt}/${job.maxAttempts}`, time(job.createdAt)];
}

/** describeJob writes one job in full for people. */
function describeJob(job: Job): string {
  const lines = [
    `id          ${job.id}`,
    `task        ${job.task} (queue ${job.queue}, priority ${job.priority})`,
    `status      ${job.status}${job.cancelRequested ? ' (cancel requested)' : ''}`,
    `attempt     ${job.attempt} of ${job.maxAttempts}`,
    `run at      ${time(job.runAt)}`,
    `created     ${time(job.createdAt)}   started ${time(job.startedAt)}   finished ${time(job.finishedAt)}`,
    `payload     ${JSON.stringify(job.payload)}`,
  ];
  if (job.progress !== null) lines.push(`progress    ${Math.round(job.progress * 100)}% ${job.progressMessage ?? ''}`.trimEnd());
  if (job.result !== null) lines.push(`result      ${JSON.stringify(job.result)}`);
  for (const error of job.errors) lines.push(`error       attempt ${error.attempt} at ${error.at}: ${error.message}`);
  return lines.join('\n');
}

/** registerJobs adds `enqueue` and `jobs ls|show|retry|cancel|delete`. */
export function registerJobs(program: Command): void {
  program
    .command('enqueue')
    .description('Enqueue a job of a task of the config')
    .argument('<task>', 'task name')
    .option('--payload <json>', 'the payload, as JSON (validated by the task schema)', parseJson('--payload'), null)
    .option('--queue <name>', "queue (default: the task's)")
    .option('--priority <n>', 'higher runs first, -1000..1000', parseInteger('--priority', -1000, 1000))
    .option('--delay <duration>', 'start no sooner than this from now, e.g. 30s or 5m', parseDuration('--delay'))
    .option('--run-at <time>', 'earliest start, ISO 8601')
    .option('--dedup-key <key>', 'return the live job holding this key instead of a new one')
    .option('--max-attempts <n>', 'attempts before the job fails for good', parseInteger('--max-attempts', 1, 1000))
    .action(async (task: string, _options, command: Command) => {
      const options = command.optsWithGlobals<
        GlobalOptions & {
          payload: unknown;
          queue?: string;
          priority?: number;
          delay?: number;
          runAt?: string;
          dedupKey?: string;
          maxAttempts?: number;
        }
      >();
      const result = await withClient(options, ({ client }) =>
        client.enqueue(task, options.payload, {
          queue: options.queue,
          priority: options.priority,
          delayMs: options.delay,
          runAt: options.runAt,
          dedupKey: options.dedupKey,
          maxAttempts: options.maxAttempts,
        }),
      );
      print(
        options.json,
        result,
        ({ job, created }) => `${created ? 'enqueued' : 'already live (dedup key)'} ${job.id} ${job.status}`,
      );
    });

  const jobs = program.command('jobs').description('List, show and steer jobs');

  jobs
    .command('ls')
    .description('List jobs, newest first')
    .option('--status <statuses>', 'only these statuses, comma-separated', parseList)
    .option('--queue <name>', 'only this queue')
    .option('--task <name>', 'only this task')
    .option('--tag <tag>', 'only jobs with this tag')
    .option('--limit <n>', 'page size, 1..500', parseInteger('--limit', 1, 500), 50)
    .option('--cursor <cursor>', 'nextCursor of the previous page')
    .action(async (_options, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & ListJobsOptions & { status?: string[] }>();
      const page = await withClient(options, ({ client }) =>
        client.listJobs({
          status: options.status as ListJobsOptions['status'],
          queue: options.queue,
          task: options.task,
          tag: options.tag,
          limit: options.limit,
          cursor: options.cursor,
        }),
      );
      print(options.json, page, ({ jobs: listed, nextCursor }) =>
        [
          table(['ID', 'STATUS', 'QUEUE', 'TASK', 'ATTEMPT', 'CREATED'], listed.map(jobRow)),
          ...(nextCursor === null ? [] : [`more: --cursor ${nextCursor}`]),
        ].join('\n'),
      );
    });

  jobs
    .command('show')
    .description('Show a job')
    .argument('<id>', 'job id')
    .action(async (id: string, _options, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const job = await withClient(options, async ({ client }) => {
        const found = await client.getJob(id);
        if (found === null) throw new JobNotFoundError(id);
        return found;
      });
      print(options.json, job, describeJob);
    });

  const steps = [
    { name: 'retry', description: 'Run a failed or cancelled job again', apply: 'retry' },
    { name: 'cancel', description: 'Cancel a job (a running one is asked to stop)', apply: 'cancel' },
    { name: 'delete', description: 'Delete a finished job (completed, failed or cancelled)', apply: 'deleteJob' },
  ] as const;
  for (const step of steps) {
    jobs
      .command(step.name)
      .description(step.description)
      .argument('<id>', 'job id')
      .action(async (id: string, _options, command: Command) => {
        const options = command.optsWithGlobals<GlobalOptions>();
        const job = await withClient(options, ({ client }) => client[step.apply](id));
        print(options.json, job, (changed) => `${step.name}: ${changed.id} ${changed.status}`);
      });
  }

  program
    .command('prune')
    .description(
      "Delete finished jobs older than a cutoff, audit entries past the config's audit.retentionDays, and spent rate limit keys",
    )
    .option(
      '--older-than <duration>',
      'finished more than this long ago, e.g. 30d or 12h',
      parseDuration('--older-than'),
      30 * 86_400_000,
    )
    .option('--status <statuses>', 'only these final statuses, comma-separated (default: completed,failed,cancelled)', parseList)
    .action(async (_options, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { olderThan: number; status?: string[] }>();
      const pruned = await withClient(options, async ({ client, config }) => {
        const checker = new OptionChecker();
        const { retentionDays } = resolveAuditOptions(checker, config.audit);
        checker.throwIfAny('Invalid config');
        const deleted = await client.prune({
          olderThan: options.olderThan,
          statuses: options.status as Job['status'][] | undefined,
        });
        // The audit log and rate limit keys of the HTTP service, as its periodic pruner does.
        const service = await pruneServiceRecords(client.store, { now: client.clock.now(), retentionDays });
        return { deleted, ...service, retentionDays };
      });
      print(
        options.json,
        { deleted: pruned.deleted, auditEntries: pruned.auditEntries, rateLimitKeys: pruned.rateLimitKeys },
        ({ deleted, auditEntries, rateLimitKeys }) =>
          `deleted ${deleted} jobs, ${auditEntries} audit entries older than ${pruned.retentionDays} days and ${rateLimitKeys} spent rate limit keys`,
      );
    });
}
