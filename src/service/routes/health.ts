import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Jobyard, LoopLiveness } from '../../core/index.js';
import type { Scheduler } from '../../scheduler/index.js';
import { access } from '../access.js';
import { DateTime, problemResponses } from '../schemas/common.js';
import { QueueList, queueStatsBody } from '../schemas/job.js';

/** Most stuck jobs `/health/jobs` lists; its count includes them all. */
const STUCK_LIST_LIMIT = 100;

const Liveness = z.object({ status: z.literal('ok') });

const Check = z.object({
  name: z.string().describe('`store`, `migrations`, `scheduler` or `worker <id>`'),
  ok: z.boolean(),
  durationMs: z.number(),
  error: z.string().optional(),
});

type CheckResult = z.infer<typeof Check>;

const Readiness = z.object({
  status: z.enum(['ready', 'not ready']),
  reasons: z.array(z.string()).describe('Why the service is not ready; empty when it is'),
  checks: z.array(Check),
});

const JobsHealth = z.object({
  status: z.enum(['ok', 'degraded']).describe('`degraded` when a job is stuck or the failure rate is above its threshold'),
  reasons: z.array(z.string()).describe('Why it is degraded; empty when it is not'),
  checkedAt: DateTime,
  queues: QueueList.shape.queues,
  stuck: z.object({
    thresholdMs: z.number().int().describe('A job running longer than this is stuck'),
    count: z.number().int(),
    jobs: z
      .array(
        z.object({
          id: z.string(),
          queue: z.string(),
          task: z.string(),
          attempt: z.number().int(),
          startedAt: DateTime,
          runningForMs: z.number().int(),
          workerId: z.string().nullable().describe('The worker holding its lease'),
        }),
      )
      .describe(`The longest running first, at most ${STUCK_LIST_LIMIT}`),
  }),
  failures: z.object({
    windowMs: z.number().int(),
    completed: z.number().int().describe('Jobs completed in the window'),
    failed: z.number().int().describe('Jobs failed for good in the window (attempts that will be retried are not counted)'),
    cancelled: z.number().int(),
    failureRate: z.number().nullable().describe('failed / (completed + failed); null when none finished'),
    threshold: z.number(),
  }),
});

/** HealthRouteOptions are what the health routes need: the client, the scheduler, and the thresholds of the service options. */
export interface HealthRouteOptions {
  client: Jobyard;
  scheduler: Scheduler | null;
  readyTimeoutMs: number;
  stalledAfterMs: number;
  stuckAfterMs: number;
  failureWindowMs: number;
  failureRateThreshold: number;
}

/**
 * healthRoutes answers liveness (the process serves HTTP), readiness (store reachable,
 * schema current, this process's scheduler and workers making progress) and the health of
 * job processing (queue counts, stuck jobs, recent failure rate).
 */
export const healthRoutes: FastifyPluginAsyncZod<HealthRouteOptions> = async (app, options) => {
  const { client } = options;
  app.get(
    '/health',
    {
      config: access('public', 'health.live', { mutates: false }),
      schema: {
        tags: ['health'],
        operationId: 'liveness',
        summary: 'Liveness: the process answers',
        response: { 200: Liveness },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      config: access('public', 'health.ready', { mutates: false }),
      schema: {
        tags: ['health'],
        operationId: 'readiness',
        summary:
          'Readiness: the store answers, its schema is current, and the scheduler and workers of this process make progress; 503 with the reasons when not',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const checks = [...(await Promise.all([storeCheck(options), migrationsCheck(options)])), ...loopChecks(options)];
      const failed = checks.filter((check) => !check.ok);
      return reply.code(failed.length === 0 ? 200 : 503).send({
        status: failed.length === 0 ? 'ready' : 'not ready',
        reasons: failed.map((check) => `${check.name}: ${check.error}`),
        checks,
      });
    },
  );

  app.get(
    '/health/jobs',
    {
      config: access('viewer', 'health.jobs', { mutates: false }),
      schema: {
        tags: ['health'],
        operationId: 'jobsHealth',
        summary: 'Job processing: counts per queue and status, stuck jobs, recent failure rate',
        response: { 200: JobsHealth, ...problemResponses(503) },
      },
    },
    async () => {
      const now = client.clock.now();
      const [queues, health] = await Promise.all([
        client.queueStats(),
        client.store.jobHealth({
          stuckBefore: new Date(now.getTime() - options.stuckAfterMs),
          stuckLimit: STUCK_LIST_LIMIT,
          finishedSince: new Date(now.getTime() - options.failureWindowMs),
        }),
      ]);
      const { completed, failed, cancelled } = health.finished;
      const failureRate = completed + failed === 0 ? null : failed / (completed + failed);
      const reasons: string[] = [];
      if (health.stuckCount > 0) {
        reasons.push(`${health.stuckCount} job(s) running for more than ${options.stuckAfterMs} ms`);
      }
      if (failureRate !== null && failureRate > options.failureRateThreshold) {
        reasons.push(
          `failure rate ${failureRate.toFixed(3)} over the last ${options.failureWindowMs} ms is above ${options.failureRateThreshold}`,
        );
      }
      return {
        status: reasons.length === 0 ? ('ok' as const) : ('degraded' as const),
        reasons,
        checkedAt: now.toISOString(),
        queues: queues.map(queueStatsBody),
        stuck: {
          thresholdMs: options.stuckAfterMs,
          count: health.stuckCount,
          jobs: health.stuck.map((job) => ({
            id: job.id,
            queue: job.queue,
            task: job.task,
            attempt: job.attempt,
            startedAt: job.startedAt.toISOString(),
            runningForMs: now.getTime() - job.startedAt.getTime(),
            workerId: job.leaseOwner,
          })),
        },
        failures: {
          windowMs: options.failureWindowMs,
          completed,
          failed,
          cancelled,
          failureRate,
          threshold: options.failureRateThreshold,
        },
      };
    },
  );
};

/** storeCheck pings the store. */
function storeCheck({ client, readyTimeoutMs }: HealthRouteOptions): Promise<CheckResult> {
  return timedCheck('store', readyTimeoutMs, () => client.store.ping());
}

/**
 * migrationsCheck compares the migrations the database recorded with the code's: by set, as
 * migrate() does, since a schema at the newest version may still lack a lower one.
 */
function migrationsCheck({ client, readyTimeoutMs }: HealthRouteOptions): Promise<CheckResult> {
  return timedCheck('migrations', readyTimeoutMs, async () => {
    const { applied, expected, pending, unknown } = await client.store.schemaVersion();
    if (unknown.length > 0) {
      throw new Error(`schema has migrations ${unknown.join(', ')} that this code (version ${expected}) does not know`);
    }
    if (pending.length > 0) {
      throw new Error(`schema at version ${applied} lacks migrations ${pending.join(', ')}: run the migrations`);
    }
  });
}

/** loopChecks reports the scheduler and workers this process runs: stalled when they made no progress for too long. */
function loopChecks({ client, scheduler, stalledAfterMs }: HealthRouteOptions): CheckResult[] {
  const now = client.clock.now().getTime();
  const loops: [string, LoopLiveness][] = [
    ...(scheduler === null ? [] : [['scheduler', scheduler.liveness] as [string, LoopLiveness]]),
    ...client.workers.map((worker) => [`worker ${worker.id}`, worker.liveness] as [string, LoopLiveness]),
  ];
  return loops
    .filter(([, liveness]) => liveness.running && liveness.lastProgressAt !== null)
    .map(([name, liveness]) => {
      const quietMs = now - (liveness.lastProgressAt as Date).getTime();
      const limitMs = Math.max(stalledAfterMs, 3 * liveness.intervalMs);
      return quietMs <= limitMs
        ? { name, ok: true, durationMs: 0 }
        : { name, ok: false, durationMs: 0, error: `no progress for ${quietMs} ms (limit ${limitMs} ms)` };
    });
}

/** timedCheck runs one check under a timeout and reports how long it took and why it failed. */
async function timedCheck(name: string, timeoutMs: number, check: () => Promise<void>): Promise<CheckResult> {
  const started = performance.now();
  let error: string | undefined;
  try {
    await withTimeout(check(), timeoutMs, `no answer within ${timeoutMs} ms`);
  } catch (cause) {
    error = cause instanceof Error ? cause.message : String(cause);
  }
  const durationMs = Math.round(performance.now() - started);
  return error === undefined ? { name, ok: true, durationMs } : { name, ok: false, durationMs, error };
}

/** withTimeout rejects with `message` when `promise` has not settled within `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
