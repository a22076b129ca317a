/**
 * What `jobyard serve` and `jobyard worker` print once they run: what runs, on which store,
 * where the API, its live events, docs and metrics are, and how to authenticate. One place,
 * so that additions land here once.
 */

/** BannerAuth says how the API authenticates callers, for the banner. */
export interface BannerAuth {
  /** False with `--no-auth` or the config's `auth: false`: every caller is an admin. */
  enabled: boolean;
  /** The admin dev token in use, or null. */
  devToken: string | null;
  /** Where the dev token came from: JOBYARD_DEV_TOKEN, the config, or made for this run. */
  devTokenFrom: 'env' | 'config' | 'generated' | null;
}

/** ServiceStarted describes a started `serve` or `worker`. */
export interface ServiceStarted {
  /** Where the jobs are (describeStore). */
  where: string;
  /** The worker's queues and concurrency, or null when no worker runs. */
  worker: { queues: readonly string[]; concurrency: number } | null;
  scheduler: boolean;
  /** Base URL of the HTTP API, or null when it is off. */
  address: string | null;
  /** How the API authenticates, or null when it is off. */
  auth: BannerAuth | null;
}

const DEV_TOKEN_ORIGINS = {
  env: 'JOBYARD_DEV_TOKEN',
  config: 'the config',
  generated: 'made for this run; set JOBYARD_DEV_TOKEN to choose it',
} as const;

/** bannerLines are the lines printed for people. */
export function bannerLines(started: ServiceStarted): string[] {
  const parts = [
    ...(started.worker ? [`worker (queues ${started.worker.queues.join(', ')}; concurrency ${started.worker.concurrency})`] : []),
    ...(started.scheduler ? ['scheduler'] : []),
  ];
  const lines = [`jobyard: ${parts.length > 0 ? parts.join(' and ') : 'no worker, no scheduler'} on ${started.where}`];
  const { address, auth } = started;
  if (address !== null) {
    lines.push(
      `API ${address}/api/jobs, live events ${address}/api/events, Swagger UI ${address}/docs,`,
      `  metrics ${address}/metrics, OpenAPI ${address}/openapi.json`,
    );
  }
  if (address !== null && auth !== null) {
    if (!auth.enabled) lines.push('auth is OFF: every caller is an admin');
    else if (auth.devToken !== null && auth.devTokenFrom !== null) {
      lines.push(
        `admin dev token (${DEV_TOKEN_ORIGINS[auth.devTokenFrom]}): ${auth.devToken}`,
        `  curl -H "Authorization: Bearer ${auth.devToken}" ${address}/api/jobs`,
        '  in Swagger UI: Authorize, then paste the token',
      );
    } else lines.push('no dev token: send an API key (jobyard token create) as Authorization: Bearer <key>');
  }
  lines.push('Ctrl+C to stop (running jobs get their grace period)');
  return lines;
}

/** printBanner writes the banner: lines for people, or one JSON line (`{"event":"started",...}`) with `--json`. */
export function printBanner(started: ServiceStarted, json: boolean | undefined): void {
  const text = json ? JSON.stringify({ event: 'started', ...started }) : bannerLines(started).join('\n');
  process.stdout.write(`${text}\n`);
}
