import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { defineTask } from '../../../src/core/index.js';
import { UnrecoverableError } from '../../../src/errors/index.js';
import { createServer } from '../../../src/service/index.js';
import { waitForEvent } from '../../helpers/event-waiter.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { type MakeStore, silentLogger, useService } from './fixtures.js';

const T0 = '2026-05-01T08:00:00.000Z';

/** promtoolAvailable says whether `promtool` runs here; CI installs it (.ci/run) and must not skip. */
function promtoolAvailable(): boolean {
  return spawnSync('promtool', ['--version']).status === 0;
}

/** sample reads one sample's value from a scrape; undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const succeeds = defineTask('metrics.succeeds', { queue: 'm', handler: async () => 'ok' });
const retries = defineTask('metrics.retries', {
  queue: 'm',
  maxAttempts: 2,
  handler: async () => {
    throw new Error('try again');
  },
});
const fails = defineTask('metrics.fails', {
  queue: 'm',
  handler: async () => {
    throw new UnrecoverableError('no way');
  },
});

export function metricsSuite(makeStore: MakeStore): void {
  const clock = new FakeClock(T0);
  const service = useService(makeStore, { processMetrics: true }, { clock });

  const scrape = async () => {
    const answer = await service.call('GET', '/metrics');
    assert.equal(answer.status, 200, answer.raw);
    assert.equal(answer.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    return answer.raw;
  };

  it('counts jobs enqueued, completed, retried and failed here, with durations and start latency', async () => {
    clock.set(T0);
    const client = service.client();
    for (const task of [succeeds, retries, fails]) await client.enqueue(task, {});
    // The jobs wait 2.5 s (by the clock) before a worker starts them.
    clock.advance(2_500);
    const { events } = client;
    const settled = new Set<string>();
    const allSettled = new Promise<void>((resolve) => {
      const note = (name: string) => () => {
        settled.add(name);
        if (settled.size === 3) resolve();
      };
      events.on('job:completed', note('completed'));
      events.on('job:retrying', note('retrying'));
      events.on('job:failed', note('failed'));
    });
    await client.start({ queues: ['m'], concurrency: 3 });
    await allSettled;

    const text = await scrape();
    const labels = (task: string) => `{queue="m",task="${task}"}`;
    for (const task of [succeeds, retries, fails])
      assert.equal(sample(text, `jobyard_jobs_enqueued_total${labels(task.name)}`), 1);
    assert.equal(sample(text, `jobyard_jobs_completed_total${labels(succeeds.name)}`), 1);
    assert.equal(sample(text, `jobyard_jobs_retried_total${labels(retries.name)}`), 1);
    assert.equal(sample(text, `jobyard_jobs_failed_total${labels(fails.name)}`), 1);
    assert.equal(sample(text, `jobyard_jobs_failed_total${labels(retries.name)}`), undefined);
    for (const [task, outcome] of [
      [succeeds, 'completed'],
      [retries, 'retried'],
      [fails, 'failed'],
    ] as const) {
      assert.equal(
        sample(text, `jobyard_job_duration_seconds_count{queue="m",task="${task.name}",outcome="${outcome}"}`),
        1,
        `${task.name} ${outcome}`,
      );
      const latency = (suffix: string) =>
        sample(text, `jobyard_job_start_latency_seconds${suffix}{queue="m",task="${task.name}"}`);
      assert.equal(sample(text, `jobyard_job_start_latency_seconds_bucket{le="1",queue="m",task="${task.name}"}`), 0);
      assert.equal(sample(text, `jobyard_job_start_latency_seconds_bucket{le="2.5",queue="m",task="${task.name}"}`), 1);
      assert.equal(latency('_sum'), 2.5);
    }
    assert.equal(sample(text, 'jobyard_jobs{queue="m",status="completed"}'), 1);
    assert.equal(sample(text, 'jobyard_jobs{queue="m",status="retryable"}'), 1);
    assert.equal(sample(text, 'jobyard_jobs{queue="m",status="failed"}'), 1);
    assert.equal(sample(text, 'jobyard_jobs{queue="m",status="running"}'), 0);
    assert.ok(sample(text, 'process_cpu_user_seconds_total') !== undefined, 'process metrics are on');
  });

  it('measures schedule lag from the fire time to its record, and counts fires by outcome', async () => {
    clock.set(T0);
    const scheduler = service.scheduler();
    await scheduler.schedule('lagging', { task: 'noop', trigger: { kind: 'every', everyMs: 60_000 } });
    clock.advance(63_000);
    assert.equal((await scheduler.tick()).length, 1);
    // The fired job is still waiting: at max instances (1), a manual run is skipped.
    assert.equal((await scheduler.runScheduleNow('lagging')).job, null);
    const text = await scrape();
    assert.equal(sample(text, 'jobyard_schedule_lag_seconds_count'), 1);
    assert.equal(sample(text, 'jobyard_schedule_lag_seconds_sum'), 3);
    assert.equal(sample(text, 'jobyard_schedule_fires_total{outcome="enqueued"}'), 1);
    assert.equal(sample(text, 'jobyard_schedule_fires_total{outcome="skipped"}'), 1);
    assert.equal(sample(text, 'jobyard_jobs_enqueued_total{queue="other",task="noop"}'), 1);
  });

  it('reuses the job counts for queueCountsCacheMs', async () => {
    clock.set(T0);
    await service.client().enqueue('noop', {});
    assert.equal(sample(await scrape(), 'jobyard_jobs{queue="other",status="available"}'), 1);
    await service.client().enqueue('noop', {});
    assert.equal(sample(await scrape(), 'jobyard_jobs{queue="other",status="available"}'), 1);
    clock.advance(5_000);
    assert.equal(sample(await scrape(), 'jobyard_jobs{queue="other",status="available"}'), 2);
  });

  it('still answers when the store cannot be read, with jobyard_store_up 0 and no job counts', async () => {
    clock.set(T0);
    await service.client().enqueue('noop', {});
    const before = await scrape();
    assert.equal(sample(before, 'jobyard_store_up'), 1);
    assert.equal(sample(before, 'jobyard_jobs{queue="other",status="available"}'), 1);
    await service.client().close();
    clock.advance(5_000);
    const after = await scrape();
    assert.equal(sample(after, 'jobyard_store_up'), 0);
    assert.equal(sample(after, 'jobyard_jobs{queue="other",status="available"}'), undefined);
    assert.equal(sample(after, 'jobyard_jobs_enqueued_total{queue="other",task="noop"}'), 1);
  });

  it('counts 429 answers by the action of their route', async () => {
    // Stands in for the rate limiter: a hook of the host app answers 429 before any handler.
    const app = createServer({ client: service.client(), logger: silentLogger, docs: false, auth: false });
    app.addHook('onRequest', async (request, reply) => {
      if (request.headers['x-limit'] === 'yes') await reply.code(429).send({ title: 'Too Many Requests' });
    });
    try {
      for (const url of ['/api/jobs', '/api/jobs', '/api/queues']) {
        assert.equal((await app.inject({ method: 'GET', url, headers: { 'x-limit': 'yes' } })).statusCode, 429);
      }
      assert.equal((await app.inject({ method: 'GET', url: '/api/jobs' })).statusCode, 200);
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.equal(sample(text, 'jobyard_http_rate_limited_total{action="jobs.list"}'), 2);
      assert.equal(sample(text, 'jobyard_http_rate_limited_total{action="queues.list"}'), 1);
      // Each service has its own registry: the harness's server saw none of these.
      assert.equal(sample(await scrape(), 'jobyard_http_rate_limited_total{action="jobs.list"}'), undefined);
    } finally {
      await app.close();
    }
  });

  it('passes promtool check metrics', {
    skip: !promtoolAvailable() && process.env.CI !== 'true' && 'promtool is not installed',
  }, async () => {
    clock.set(T0);
    const client = service.client();
    await client.enqueue(succeeds, {});
    await client.enqueue(fails, {});
    const done = waitForEvent(
      (listener) => client.events.on('job:failed', listener),
      () => true,
      'the failure',
    );
    await client.start({ queues: ['m'] });
    await done;
    await service.scheduler().schedule('checked', { task: 'noop', trigger: { kind: 'every', everyMs: 1000 } });
    clock.advance(1_500);
    await service.scheduler().tick();
    const text = await scrape();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.error, undefined, `promtool could not run: ${check.error}`);
    assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
  });
}
