import type { EnqueueOptions, Jobyard } from '../core/index.js';
import { IdempotencyKeyReusedError, ValidationError } from '../errors/index.js';
import type { Job } from '../types/index.js';

/** IdempotentEnqueue is one `POST /api/jobs` that carries an Idempotency-Key. */
export interface IdempotentEnqueue {
  task: string;
  payload: unknown;
  options: EnqueueOptions;
  key: string;
}

/**
 * enqueueIdempotent enqueues a job whose dedup key is the request's Idempotency-Key, so that
 * a replay (concurrent, or after a restart) yields the same job: the newest job that holds
 * the key, finished or not, is returned with `replayed: true`. Concurrent first requests
 * meet at the store's unique index on live dedup keys, which lets one job through. A key
 * held by a job of another task or payload is an IdempotencyKeyReusedError (422). Not
 * guaranteed: a replay after the job was pruned enqueues a new one.
 */
export async function enqueueIdempotent(client: Jobyard, request: IdempotentEnqueue): Promise<{ job: Job; replayed: boolean }> {
  const { task, payload, key } = request;
  if (request.options.dedupKey !== undefined && request.options.dedupKey !== key) {
    throw new ValidationError('Invalid request', [
      { path: 'dedupKey', message: 'must equal the Idempotency-Key header when both are given' },
    ]);
  }
  const options = { ...request.options, dedupKey: key };
  // Validates as enqueue would and gives the payload as it would be stored, to compare with a replay's.
  const insert = await client.buildJobInsert(task, payload, options);
  const assertSameRequest = (job: Job) => {
    if (job.task !== insert.task || canonicalJson(job.payload) !== canonicalJson(insert.payload)) {
      throw new IdempotencyKeyReusedError(key, job.id);
    }
  };
  const { jobs } = await client.listJobs({ dedupKey: key, limit: 1 });
  const earlier = jobs[0];
  if (earlier) {
    assertSameRequest(earlier);
    return { job: earlier, replayed: true };
  }
  const { job, created } = await client.enqueue(task, payload, options);
  if (!created) assertSameRequest(job);
  return { job, replayed: !created };
}

/** canonicalJson writes a JSON value with object keys sorted (PostgreSQL's jsonb reorders them). */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}
