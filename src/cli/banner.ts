/**
 * What `jobyard serve` and `jobyard worker` print once they run: what runs, on which store,
 * and where the API and its docs are. One place, so that additions (a dev token, say) land
 * here once.
 */

/** ServiceStarted describes a started `serve` or `worker`. */
export interface ServiceStarted {
  /** Where the jobs are (describeStore). */
  where: string;
  /** The worker's queues and concurrency, or null when no worker runs. */
  worker: { queues: readonly string[]; concurrency: number } | null;
  scheduler: boolean;
  /** Base URL of the HTTP API, or null when it is off. */
  address: string | null;
}

/** bannerLines are the lines printed for people. */
export function bannerLines(started: ServiceStarted): string[] {
  const parts = [
    ...(started.worker ? [`worker (queues ${started.worker.queues.join(', ')}; concurrency ${started.worker.concurrency})`] : []),
    ...(started.scheduler ? ['scheduler'] : []),
  ];
  const lines = [`jobyard: ${parts.length > 0 ? parts.join(' and ') : 'no worker, no scheduler'} on ${started.where}`];
  if (started.address !== null) {
    lines.push(`API ${started.address}/api/jobs, Swagger UI ${started.address}/docs, OpenAPI ${started.address}/openapi.json`);
  }
  lines.push('Ctrl+C to stop (running jobs get their grace period)');
  return lines;
}

/** printBanner writes the banner: lines for people, or one JSON line (`{"event":"started",...}`) with `--json`. */
export function printBanner(started: ServiceStarted, json: boolean | undefined): void {
  const text = json ? JSON.stringify({ event: 'started', ...started }) : bannerLines(started).join('\n');
  process.stdout.write(`${text}\n`);
}
