import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { Scheduler } from '../../scheduler/index.js';
import { type AuthOptions, createServer } from '../../service/index.js';
import { type BannerAuth, printBanner } from '../banner.js';
import { type GlobalOptions, openClient } from '../context.js';
import { EXIT_CODES, UsageError } from '../exit-codes.js';
import { parseInteger, parseList } from '../output.js';

/** ServeOptions are the flags of `serve` (and of `worker`, which has no API or scheduler). */
interface ServeOptions extends GlobalOptions {
  api: boolean;
  worker: boolean;
  scheduler: boolean;
  auth: boolean;
  port?: number;
  host?: string;
  queues?: string[];
  concurrency?: number;
}

const DEFAULT_PORT = 3000;
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_GRACE_MS = 10_000;

/** registerServe adds `serve` and `worker`. */
export function registerServe(program: Command): void {
  const workerFlags = (command: Command) =>
    command
      .option('--queues <names>', 'queues the worker takes jobs from, comma-separated (env JOBYARD_QUEUES)', parseList)
      .option(
        '--concurrency <n>',
        'jobs the worker runs at once (env JOBYARD_CONCURRENCY)',
        parseInteger('--concurrency', 1, 10_000),
      );

  workerFlags(
    program
      .command('serve')
      .description('Run the HTTP API, a worker and the scheduler until SIGINT or SIGTERM')
      .option(
        '--port <port>',
        `port of the HTTP API (env PORT; default ${DEFAULT_PORT}; 0 picks a free one)`,
        parseInteger('--port', 0, 65_535),
      )
      .option('--host <host>', `address the HTTP API listens on (env HOST; default ${DEFAULT_HOST})`)
      .option('--no-api', 'do not serve the HTTP API')
      .option('--no-worker', 'do not run a worker')
      .option('--no-scheduler', 'do not fire schedules')
      .option('--no-auth', 'turn API authentication off (the service option auth: false), for local development only'),
  ).action((_options: ServeOptions, command: Command) => runService(command.optsWithGlobals<ServeOptions>()));

  workerFlags(program.command('worker').description('Run a worker (no API, no scheduler) until SIGINT or SIGTERM')).action(
    (_options: ServeOptions, command: Command) =>
      runService({ ...command.optsWithGlobals<ServeOptions>(), api: false, worker: true, scheduler: false, auth: true }),
  );
}

/** runService starts the parts asked for and keeps them running until a signal stops them gracefully. */
async function runService(options: ServeOptions): Promise<void> {
  if (!options.api && !options.worker && !options.scheduler) {
    throw new UsageError('Nothing to run: --no-api, --no-worker and --no-scheduler together turn everything off');
  }
  const env = process.env;
  const queues = options.queues ?? (env.JOBYARD_QUEUES === undefined ? undefined : parseList(env.JOBYARD_QUEUES));
  const concurrency =
    options.concurrency ??
    (env.JOBYARD_CONCURRENCY === undefined ? undefined : parseInteger('JOBYARD_CONCURRENCY', 1, 10_000)(env.JOBYARD_CONCURRENCY));
  const port = options.port ?? (env.PORT === undefined ? undefined : parseInteger('PORT', 0, 65_535)(env.PORT));

  // Published events let GET /api/events of every process on a PostgreSQL database see this one's jobs.
  const { client, config, where } = await openClient(options, { publishEvents: true });
  const {
    store: _store,
    tasks: _tasks,
    schedules = {},
    client: _client,
    worker: workerOptions,
    scheduler: schedulerOptions,
    port: configPort,
    host: configHost,
    graceMs = DEFAULT_GRACE_MS,
    setup,
    // Everything else is an option of the HTTP service (auth, rate limits, ...), handed on unchanged.
    ...serviceOptions
  } = config;
  let server: FastifyInstance | null = null;
  let scheduler: Scheduler | null = null;
  const stop = async () => {
    await server?.close();
    await scheduler?.stop();
    await client.close({ graceMs });
  };
  try {
    // The API serves schedules even when this process does not fire them.
    scheduler = options.scheduler || options.api ? new Scheduler(client, schedulerOptions) : null;
    if (scheduler) for (const [id, definition] of Object.entries(schedules)) await scheduler.schedule(id, definition);
    await setup?.({ client, scheduler });
    const worker = options.worker
      ? await client.start({ ...workerOptions, ...(queues ? { queues } : {}), ...(concurrency ? { concurrency } : {}) })
      : null;
    if (options.scheduler) scheduler?.start();
    let address: string | null = null;
    let auth: BannerAuth | null = null;
    if (options.api) {
      const { auth: configAuth, ...otherServiceOptions } = serviceOptions;
      const chosen = chooseAuth(options.auth ? configAuth : false, env);
      auth = chosen.banner;
      server = createServer({
        ...otherServiceOptions,
        auth: chosen.auth,
        client,
        ...(scheduler ? { scheduler } : {}),
      });
      address = await server.listen({
        port: port ?? configPort ?? DEFAULT_PORT,
        host: options.host ?? env.HOST ?? configHost ?? DEFAULT_HOST,
      });
    }
    printBanner(
      {
        where,
        worker: worker && { queues: worker.queues, concurrency: worker.concurrency },
        scheduler: options.scheduler,
        address,
        auth,
      },
      options.json,
    );
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  await untilSignalled();
  process.stderr.write(`jobyard: stopping; running jobs get up to ${graceMs} ms to finish (signal again to quit at once)\n`);
  process.once('SIGINT', () => process.exit(EXIT_CODES.failure));
  process.once('SIGTERM', () => process.exit(EXIT_CODES.failure));
  await stop();
}

/**
 * chooseAuth settles the service's `auth` option. Unless auth is off (`--no-auth` or the
 * config's `auth: false`), an admin dev token joins the config's auth: JOBYARD_DEV_TOKEN,
 * else the config's `auth.devToken`, else, unless NODE_ENV is production, a random one made
 * for this run (printed by the banner). In production the service refuses a dev token.
 */
function chooseAuth(
  configured: AuthOptions | false | undefined,
  env: NodeJS.ProcessEnv,
): { auth: AuthOptions | false; banner: BannerAuth } {
  if (configured === false) return { auth: false, banner: { enabled: false, devToken: null, devTokenFrom: null } };
  const fromEnv = env.JOBYARD_DEV_TOKEN || undefined;
  const devToken =
    fromEnv ??
    configured?.devToken ??
    (env.NODE_ENV === 'production' ? undefined : `jydev_${randomBytes(24).toString('base64url')}`);
  const devTokenFrom = devToken === undefined ? null : fromEnv ? 'env' : configured?.devToken ? 'config' : 'generated';
  return {
    auth: { ...configured, ...(devToken === undefined ? {} : { devToken }) },
    banner: { enabled: true, devToken: devToken ?? null, devTokenFrom },
  };
}

function untilSignalled(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
