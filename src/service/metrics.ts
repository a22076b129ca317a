import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Jobyard, QueueStats } from '../core/index.js';
import { JOB_STATUSES, type Job } from '../types/index.js';

/** Seconds from 5 ms to 1 h: job handlers range from a cache write to a report build. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600];
/** Seconds from 1 ms (a local hand-off) to 1 h (a backlog). */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** Seconds from 10 ms to 1 h: a tick comes up to one poll interval (1 s by default) late. */
const SCHEDULE_LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600];

const PROMTOOL_REJECTED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** ServiceMetricsOptions configure ServiceMetrics. */
export interface ServiceMetricsOptions {
  /** How long the job counts read from the store are reused, in ms (0: read at every scrape). */
  queueCountsCacheMs: number;
  /** Also collect prom-client's default process metrics. */
  processMetrics: boolean;
}

/**
 * ServiceMetrics is the Prometheus registry of one service instance (never prom-client's
 * global one, so two services in one process keep apart): job counts read from the store at
 * scrape time (`scrape()`), and counters and histograms fed by the client's events, which cover the jobs
 * this process enqueued and ran and the fires its scheduler recorded, not other processes'
 * (sum them across instances in PromQL). Call `close()` to stop listening.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly jobs: Gauge<'queue' | 'status'>;
  private readonly storeUp: Gauge;
  private readonly rateLimited: Counter<'action'>;
  private readonly unsubscribes: (() => void)[] = [];
  private cachedCounts: { at: number; counts: Promise<QueueStats[]> } | null = null;

  constructor(
    private readonly client: Jobyard,
    private readonly options: ServiceMetricsOptions,
  ) {
    const registers = [this.registry];
    this.jobs = new Gauge({
      name: 'jobyard_jobs',
      help: 'Jobs in the store by queue and status, read at scrape time (cached for queueCountsCacheMs)',
      labelNames: ['queue', 'status'],
      registers,
    });
    this.storeUp = new Gauge({
      name: 'jobyard_store_up',
      help: 'Whether the job counts could be read from the store at the last scrape (1) or not (0)',
      registers,
    });
    const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['queue', 'task'], registers });
    const enqueued = counter('jobyard_jobs_enqueued_total', 'Jobs enqueued by this process (schedule fires included)');
    const completed = counter('jobyard_jobs_completed_total', 'Jobs completed by the workers of this process');
    const failed = counter(
      'jobyard_jobs_failed_total',
      'Jobs failed for good (attempts exhausted or unrecoverable) in this process',
    );
    const retried = counter('jobyard_jobs_retried_total', 'Failed attempts that will be retried, in this process');
    const duration = new Histogram({
      name: 'jobyard_job_duration_seconds',
      help: 'How long attempts ran in this process, by outcome (completed, retried, failed)',
      labelNames: ['queue', 'task', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    const startLatency = new Histogram({
      name: 'jobyard_job_start_latency_seconds',
      help: 'From when a job was due (enqueue time, or its runAt when delayed or retried) to when a worker of this process started it',
      labelNames: ['queue', 'task'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const scheduleLag = new Histogram({
      name: 'jobyard_schedule_lag_seconds',
      help: "From a schedule's fire time to when this process's scheduler recorded it and enqueued its job",
      buckets: SCHEDULE_LAG_BUCKETS,
      registers,
    });
    const scheduleFires = new Counter({
      name: 'jobyard_schedule_fires_total',
      help: 'Fire times recorded by the scheduler of this process, by outcome (enqueued, missed, skipped)',
      labelNames: ['outcome'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'jobyard_http_rate_limited_total',
      help: 'Requests answered 429 Too Many Requests, by route action',
      labelNames: ['action'],
      registers,
    });
    if (options.processMetrics) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges whose names end in _total, which `promtool check metrics` rejects; the
      // per-type gauges without the suffix (nodejs_active_handles, ...) carry the same counts.
      for (const name of PROMTOOL_REJECTED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }

    const labels = (job: Job) => ({ queue: job.queue, task: job.task });
    const { events } = client;
    this.unsubscribes.push(
      events.on('job:enqueued', ({ job, created }) => {
        if (created) enqueued.inc(labels(job));
      }),
      events.on('job:started', ({ job }) => {
        if (job.startedAt === null) return;
        startLatency.observe(labels(job), Math.max(0, job.startedAt.getTime() - job.runAt.getTime()) / 1000);
      }),
      events.on('job:completed', ({ job, durationMs }) => {
        completed.inc(labels(job));
        duration.observe({ ...labels(job), outcome: 'completed' }, durationMs / 1000);
      }),
      events.on('job:retrying', ({ job, durationMs }) => {
        retried.inc(labels(job));
        duration.observe({ ...labels(job), outcome: 'retried' }, durationMs / 1000);
      }),
      events.on('job:failed', ({ job, durationMs }) => {
        failed.inc(labels(job));
        duration.observe({ ...labels(job), outcome: 'failed' }, durationMs / 1000);
      }),
      events.on('schedule:fired', ({ fireAt, manual, job }) => {
        enqueued.inc(labels(job));
        scheduleFires.inc({ outcome: 'enqueued' });
        // A manual run fires "now": it has no lag to speak of.
        if (!manual) scheduleLag.observe(Math.max(0, job.createdAt.getTime() - fireAt.getTime()) / 1000);
      }),
      events.on('schedule:missed', () => scheduleFires.inc({ outcome: 'missed' })),
      events.on('schedule:skipped', () => scheduleFires.inc({ outcome: 'skipped' })),
    );
  }

  /**
   * scrape reads the job counts (or reuses those of the last queueCountsCacheMs) and renders
   * every metric. A store that cannot be read leaves the job counts out and sets
   * jobyard_store_up to 0: the event counters are still worth scraping.
   */
  async scrape(): Promise<string> {
    try {
      const queues = await this.queueCounts();
      this.jobs.reset();
      for (const { queue, counts } of queues) {
        for (const status of JOB_STATUSES) this.jobs.set({ queue, status }, counts[status]);
      }
      this.storeUp.set(1);
    } catch (error) {
      this.client.logger.warn({ err: error }, 'metrics: could not read the job counts');
      this.jobs.reset();
      this.storeUp.set(0);
    }
    return this.registry.metrics();
  }

  /** countRateLimited counts one request answered 429, under its route's action. */
  countRateLimited(action: string): void {
    this.rateLimited.inc({ action });
  }

  /** close stops listening to the client's events. */
  close(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  /** queueCounts reads the job counts, sharing one read among the scrapes of queueCountsCacheMs. */
  private queueCounts(): Promise<QueueStats[]> {
    const now = this.client.clock.now().getTime();
    const cached = this.cachedCounts;
    if (cached !== null && now - cached.at < this.options.queueCountsCacheMs) return cached.counts;
    const counts = this.client.queueStats();
    this.cachedCounts = { at: now, counts };
    // A failed read is not kept: the next scrape tries again.
    counts.catch(() => {
      if (this.cachedCounts?.counts === counts) this.cachedCounts = null;
    });
    return counts;
  }
}
