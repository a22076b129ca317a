import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Jobyard } from '../../core/index.js';
import { JobNotFoundError, ValidationError } from '../../errors/index.js';
import { access } from '../access.js';
import { enqueueIdempotent } from '../idempotency.js';
import { assertStorable } from '../request-checks.js';
import { problemResponses } from '../schemas/common.js';
import {
  EnqueueBody,
  EnqueueHeaders,
  JobIdParams,
  JobPage,
  JobSchema,
  jobBody,
  ListJobsQuery,
  NoContent,
  QueueList,
  QueueParams,
  QueueStateSchema,
  queueStateBody,
  queueStatsBody,
} from '../schemas/job.js';

/** jobRoutes serves the jobs and queues of one client under /api. */
export const jobRoutes: FastifyPluginAsyncZod<{ client: Jobyard }> = async (app, { client }) => {
  app.get(
    '/api/jobs',
    {
      config: access('viewer', 'jobs.list', { mutates: false }),
      schema: {
        tags: ['jobs'],
        operationId: 'listJobs',
        summary: 'List jobs, newest first, with filters and cursor pagination',
        querystring: ListJobsQuery,
        response: { 200: JobPage, ...problemResponses(400) },
      },
    },
    async (request) => {
      const { metadata, ...filters } = request.query;
      const page = await client.listJobs({ ...filters, metadata: parseMetadataFilter(metadata) });
      return { jobs: page.jobs.map(jobBody), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/jobs/:id',
    {
      config: access('viewer', 'jobs.get', { mutates: false }),
      schema: {
        tags: ['jobs'],
        operationId: 'getJob',
        summary: 'Get a job',
        params: JobIdParams,
        response: { 200: JobSchema, ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      const job = await client.getJob(request.params.id);
      if (job === null) throw new JobNotFoundError(request.params.id);
      return jobBody(job);
    },
  );

  app.post(
    '/api/jobs',
    {
      config: access('operator', 'jobs.enqueue'),
      schema: {
        tags: ['jobs'],
        operationId: 'enqueueJob',
        summary: 'Enqueue a job of a registered task',
        description:
          "The payload is validated by the task's schema. With an `Idempotency-Key` header the key becomes the job's " +
          'dedup key and a replay answers 201 with the same job and `Idempotent-Replayed: true`. Without it, 201 for a ' +
          'new job, 200 when a live job already held the `dedupKey`.',
        headers: EnqueueHeaders,
        body: EnqueueBody,
        response: { 200: JobSchema, 201: JobSchema, ...problemResponses(400, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const { task, payload, ...options } = request.body;
      const key = request.headers['idempotency-key'];
      if (key === undefined) {
        const { job, created } = await client.enqueue(task, payload, options);
        request.auditTarget = job.id;
        return reply
          .code(created ? 201 : 200)
          .header('location', `${request.routeOptions.url}/${job.id}`)
          .send(jobBody(job));
      }
      const { job, replayed } = await enqueueIdempotent(client, { task, payload, options, key });
      request.auditTarget = job.id;
      return reply
        .code(201)
        .header('location', `${request.routeOptions.url}/${job.id}`)
        .header('idempotent-replayed', String(replayed))
        .send(jobBody(job));
    },
  );

  // Cancel and retry: a state transition of one job, answered with the job, 409 when its status forbids it.
  const transitions = [
    {
      action: 'cancel',
      operationId: 'cancelJob',
      summary: 'Cancel a job',
      description: 'A waiting job is cancelled at once; a running one is asked to stop (`cancelRequested`) and ends `cancelled`.',
      apply: (id: string) => client.cancel(id),
    },
    {
      action: 'retry',
      operationId: 'retryJob',
      summary: 'Run a failed or cancelled job again',
      description: 'Back to `available`, its error history kept.',
      apply: (id: string) => client.retry(id),
    },
  ];
  for (const { action, apply, ...documentation } of transitions) {
    app.post(
      `/api/jobs/:id/${action}`,
      {
        config: access('operator', `jobs.${action}`),
        schema: {
          tags: ['jobs'],
          ...documentation,
          params: JobIdParams,
          response: { 200: JobSchema, ...problemResponses(400, 404, 409) },
        },
      },
      async (request) => jobBody(await apply(request.params.id)),
    );
  }

  app.delete(
    '/api/jobs/:id',
    {
      config: access('admin', 'jobs.delete'),
      schema: {
        tags: ['jobs'],
        operationId: 'deleteJob',
        summary: 'Delete a finished job',
        description: 'Only completed, failed or cancelled jobs: cancel a live job first (409 otherwise).',
        params: JobIdParams,
        response: { 204: NoContent, ...problemResponses(400, 404, 409) },
      },
    },
    async (request, reply) => {
      await client.deleteJob(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/queues',
    {
      config: access('viewer', 'queues.list', { mutates: false }),
      schema: {
        tags: ['queues'],
        operationId: 'listQueues',
        summary: 'Count jobs per queue and status, and say which queues are paused',
        response: { 200: QueueList },
      },
    },
    async () => ({
      queues: (await client.queueStats()).map(queueStatsBody),
    }),
  );

  const queueTransitions = [
    {
      action: 'pause',
      summary: 'Pause a queue: workers in every process stop starting its jobs, which wait (new ones can still be enqueued)',
      apply: (queue: string) => client.pauseQueue(queue),
    },
    {
      action: 'resume',
      summary: 'Resume a paused queue: workers take its jobs again',
      apply: (queue: string) => client.resumeQueue(queue),
    },
  ];
  for (const { action, summary, apply } of queueTransitions) {
    app.post(
      `/api/queues/:queue/${action}`,
      {
        config: access('operator', `queues.${action}`),
        schema: {
          tags: ['queues'],
          operationId: `${action}Queue`,
          summary,
          description: 'Idempotent. A queue name with `/` is sent percent-encoded (`%2F`).',
          params: QueueParams,
          response: { 200: QueueStateSchema, ...problemResponses(400) },
        },
      },
      async (request) => queueStateBody(await apply(request.params.queue)),
    );
  }
};

/** parseMetadataFilter reads the `metadata` query parameter: a JSON object of strings, numbers and booleans. */
function parseMetadataFilter(text: string | undefined): Record<string, string | number | boolean> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError('Invalid job filter', [{ path: 'metadata', message: 'expected a JSON object' }]);
  }
  const valid =
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((inner) => ['string', 'boolean'].includes(typeof inner) || Number.isFinite(inner));
  if (!valid) {
    throw new ValidationError('Invalid job filter', [
      { path: 'metadata', message: 'expected a JSON object of string, finite number or boolean values' },
    ]);
  }
  assertStorable(value, 'metadata');
  return value as Record<string, string | number | boolean>;
}
