import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Jobyard } from '../../../src/core/index.js';
import { Scheduler } from '../../../src/scheduler/index.js';
import { hashTokenSecret } from '../../../src/service/index.js';
import { waitUntil } from '../../helpers/script-process.js';
import { assertExit, type CliHarness, type MakeCliDatabase, useCli } from './fixtures.js';

export type { MakeCliDatabase } from './fixtures.js';

const UNKNOWN_ID = '01890000-0000-7000-8000-000000000000';

/** lines collects a child's output lines as they come. */
function lines(stream: NodeJS.ReadableStream | null): string[] {
  const seen: string[] = [];
  let partial = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    seen.push(...parts);
  });
  return seen;
}

/** stopWith sends a signal to a long-running command and resolves with its exit code. */
function stopWith(child: ReturnType<CliHarness['start']>, signal: NodeJS.Signals): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  return exited;
}

/**
 * exerciseCli runs the `jobyard` command line as real child processes against one kind of
 * store, with a config file in a temp folder: outputs parsed from `--json`, exit codes checked.
 */
export function exerciseCli(name: string, makeDatabase: MakeCliDatabase): void {
  describe(`jobyard CLI on ${name}`, () => {
    const cli = useCli(makeDatabase);

    it('migrates, enqueues by task name, lists, shows, cancels, retries and deletes jobs', async () => {
      const migrated = await cli.run(['migrate', '--json']);
      assertExit(migrated, 0, 'migrate');
      assert.deepEqual(migrated.json().applied, [], 'the test store was migrated already');

      const enqueued = await cli.run(['enqueue', 'greet', '--payload', '{"name":"Ada"}', '--priority', '5', '--json']);
      assertExit(enqueued, 0, 'enqueue');
      const { job, created } = enqueued.json();
      assert.equal(created, true);
      assert.deepEqual([job.task, job.status, job.priority, job.payload], ['greet', 'available', 5, { name: 'Ada' }]);

      const listed = await cli.run(['jobs', 'ls', '--status', 'available', '--json']);
      assertExit(listed, 0, 'jobs ls');
      assert.deepEqual(
        listed.json().jobs.map((listedJob: { id: string }) => listedJob.id),
        [job.id],
      );
      const shown = await cli.run(['jobs', 'show', job.id, '--json']);
      assert.equal(shown.json().id, job.id);
      const human = await cli.run(['jobs', 'show', job.id]);
      assertExit(human, 0, 'jobs show');
      assert.match(human.stdout, /status\s+available/);

      assertExit(await cli.run(['jobs', 'delete', job.id]), 4, 'delete of a live job');
      const cancelled = await cli.run(['jobs', 'cancel', job.id, '--json']);
      assert.equal(cancelled.json().status, 'cancelled');
      const retried = await cli.run(['jobs', 'retry', job.id, '--json']);
      assert.equal(retried.json().status, 'available');
      assertExit(await cli.run(['jobs', 'retry', job.id]), 4, 'retry of a waiting job');
      await cli.run(['jobs', 'cancel', job.id]);
      assertExit(await cli.run(['jobs', 'delete', job.id, '--json']), 0, 'delete of a cancelled job');
      assert.equal(await cli.database().store.jobGet({ id: job.id }), null);
      assertExit(await cli.run(['jobs', 'show', job.id]), 3, 'show of a deleted job');

      const pruned = await cli.run(['prune', '--older-than', '0', '--json']);
      assertExit(pruned, 0, 'prune');
      assert.deepEqual(pruned.json(), { deleted: 0, auditEntries: 0, rateLimitKeys: 0 });
    });

    it('creates API keys with their secret shown once, lists and revokes them', async () => {
      const created = await cli.run(['token', 'create', '--name', 'ci-bot', '--role', 'operator', '--json']);
      assertExit(created, 0, 'token create');
      const { token, secret } = created.json();
      assert.deepEqual([token.name, token.role, token.revokedAt], ['ci-bot', 'operator', null]);
      const store = cli.database().store;
      assert.equal((await store.tokenFindByHash({ secretHash: hashTokenSecret(secret) }))?.id, token.id, 'the secret is the key');

      const human = await cli.run(['token', 'create', '--name', 'viewer-bot', '--role', 'viewer']);
      assertExit(human, 0, 'token create for people');
      assert.match(human.stdout, /shown this once only: jy_[\w-]{43}\n/);
      assertExit(await cli.run(['token', 'create', '--name', 'ci-bot', '--role', 'viewer']), 4, 'a taken name');
      const badRole = await cli.run(['token', 'create', '--name', 'root-bot', '--role', 'root']);
      assertExit(badRole, 2, 'an unknown role');
      assert.match(badRole.stderr, /role/);
      assertExit(await cli.run(['token', 'create', '--name', 'no-role']), 2, 'no --role');

      const listed = await cli.run(['token', 'ls', '--json']);
      assertExit(listed, 0, 'token ls');
      assert.deepEqual(
        listed.json().map(({ name }: { name: string }) => name),
        ['ci-bot', 'viewer-bot'],
      );
      assert.doesNotMatch(listed.stdout, /jy_/, 'listings never show secrets');

      const revoked = await cli.run(['token', 'revoke', 'ci-bot', '--json']);
      assertExit(revoked, 0, 'token revoke by name');
      assert.equal(revoked.json().id, token.id);
      assert.equal(await store.tokenFindByHash({ secretHash: hashTokenSecret(secret) }), null, 'a revoked key is refused');
      assertExit(await cli.run(['token', 'revoke', token.id]), 0, 'revoking a revoked key by id changes nothing');
      const unknown = await cli.run(['token', 'revoke', 'ci-bot', '--json']);
      assertExit(unknown, 3, 'no live key has the name any more');
      assert.equal(JSON.parse(unknown.stderr).error.code, 'JOBYARD_TOKEN_NOT_FOUND');
      const live = (await cli.run(['token', 'ls', '--json'])).json();
      const all = (await cli.run(['token', 'ls', '--all', '--json'])).json();
      assert.deepEqual(
        [live.length, all.map(({ name, revokedAt }: { name: string; revokedAt: string | null }) => [name, revokedAt !== null])],
        [
          1,
          [
            ['ci-bot', true],
            ['viewer-bot', false],
          ],
        ],
      );
    });

    it('pauses, lists and resumes queues, and steers schedules', async () => {
      const paused = await cli.run(['queues', 'pause', 'mail/bulk', '--json']);
      assertExit(paused, 0, 'queues pause');
      assert.equal(paused.json().paused, true);
      const listed = (await cli.run(['queues', 'ls', '--json'])).json();
      assert.deepEqual(
        listed.map(({ queue, paused: isPaused, total }: { queue: string; paused: boolean; total: number }) => ({
          queue,
          isPaused,
          total,
        })),
        [{ queue: 'mail/bulk', isPaused: true, total: 0 }],
      );
      assert.equal((await cli.run(['queues', 'resume', 'mail/bulk', '--json'])).json().paused, false);

      // Schedules are declared by `serve`; here the test declares one on the same database.
      const client = new Jobyard({ store: cli.database().store });
      client.register({ name: 'greet', handler: () => null });
      await new Scheduler(client).schedule('nightly', {
        task: 'greet',
        payload: { name: 'nightly' },
        trigger: { kind: 'cron', expression: '0 2 * * *' },
      });
      const schedules = (await cli.run(['schedules', 'ls', '--json'])).json();
      assert.deepEqual(
        schedules.map(({ id }: { id: string }) => id),
        ['nightly'],
      );
      assert.equal((await cli.run(['schedules', 'pause', 'nightly', '--json'])).json().paused, true);
      assert.equal((await cli.run(['schedules', 'resume', 'nightly', '--json'])).json().paused, false);
      const run = await cli.run(['schedules', 'run', 'nightly', '--json']);
      assertExit(run, 0, 'schedules run');
      assert.equal(run.json().job.task, 'greet');
      assertExit(await cli.run(['schedules', 'run', 'weekly']), 3, 'run of an unknown schedule');
    });

    it('previews a trigger without a store, across a DST change', async () => {
      const preview = await cli.run([
        'schedules',
        'preview',
        '--cron',
        '30 2 * * *',
        '--tz',
        'America/New_York',
        '--count',
        '3',
        '--from',
        '2026-03-07T00:00:00Z',
        '--json',
        '--database',
        '/nonexistent/folder/never-opened.db',
      ]);
      assertExit(preview, 0, 'schedules preview');
      assert.deepEqual(
        preview.json().fireTimes.map(({ local }: { local: string }) => local),
        ['2026-03-07T02:30:00-05:00', '2026-03-08T03:00:00-04:00', '2026-03-09T02:30:00-04:00'],
      );
    });

    it('answers bad input with exit 2 and a clear message, unknown things with exit 3', async () => {
      const cases: [string[], number, RegExp][] = [
        [['enqueue', 'greet', '--payload', '{bad'], 2, /--payload expects JSON/],
        [['enqueue', 'greet', '--payload', '{"name":5}'], 2, /payload\.name/],
        [['enqueue', 'no.such.task'], 3, /Unknown task "no\.such\.task"/],
        [['jobs', 'show', 'not-a-uuid'], 2, /expected a UUID/],
        [['jobs', 'show', UNKNOWN_ID], 3, /not found/],
        [['jobs', 'ls', '--limit', 'many'], 2, /--limit expects a whole number/],
        [['jobs', 'ls', '--status', 'done'], 2, /status/],
        [['queues', 'pause', 'a b'], 2, /queue/],
        [['schedules', 'preview'], 2, /exactly one of --cron, --every or --at/],
        [['schedules', 'preview', '--cron', '0 2 * * *', '--tz', 'Mars/Olympus'], 2, /trigger\.timezone/],
        [['frobnicate'], 2, /unknown command 'frobnicate'/],
        [['jobs', 'ls', '--colour'], 2, /unknown option '--colour'/],
        [['serve', '--no-api', '--no-worker', '--no-scheduler'], 2, /Nothing to run/],
        [['--config', 'missing.config.ts', 'queues', 'ls'], 2, /missing\.config\.ts not found/],
      ];
      for (const [args, code, message] of cases) {
        const run = await cli.run(args);
        assertExit(run, code, args.join(' '));
        assert.match(run.stderr, message, args.join(' '));
        assert.equal(run.stdout, '', `${args.join(' ')} prints nothing on stdout`);
      }
      const json = await cli.run(['jobs', 'show', UNKNOWN_ID, '--json']);
      assert.equal(JSON.parse(json.stderr).error.code, 'JOBYARD_JOB_NOT_FOUND');
      assertExit(await cli.run(['--help']), 0, '--help');
      const help = await cli.run(['jobs', 'ls', '--help']);
      assertExit(help, 0, 'jobs ls --help');
      assert.match(help.stdout, /--status <statuses>/);
    });

    it('serves the API with a worker and the scheduler, and stops gracefully on SIGTERM', async () => {
      // No JOBYARD_DEV_TOKEN and not production: serve makes an admin dev token for the run.
      const child = cli.start(['serve', '--port', '0', '--json'], { JOBYARD_DEV_TOKEN: '', NODE_ENV: '' });
      const out = lines(child.stdout);
      const err = lines(child.stderr);
      const describeOutput = () => `stdout: ${out.join('\n')}\nstderr: ${err.join('\n')}`;
      await waitUntil(() => out.some((line) => line.startsWith('{')), describeOutput, 60_000);
      const started = JSON.parse(out.find((line) => line.startsWith('{')) as string);
      assert.equal(started.event, 'started');
      assert.equal(started.scheduler, true);
      assert.deepEqual(started.worker, { queues: ['default'], concurrency: 10 });
      assert.deepEqual([started.auth.enabled, started.auth.devTokenFrom], [true, 'generated']);
      assert.match(started.auth.devToken, /^jydev_/);

      const health = await fetch(`${started.address}/health`);
      assert.equal(health.status, 200);
      const enqueue = (headers: Record<string, string>) =>
        fetch(`${started.address}/api/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ task: 'greet', payload: { name: 'Grace' } }),
        });
      assert.equal((await enqueue({})).status, 401, 'auth is on');
      const enqueued = await enqueue({ authorization: `Bearer ${started.auth.devToken}` });
      assert.equal(enqueued.status, 201);
      const { id } = (await enqueued.json()) as { id: string };
      const store = cli.database().store;
      await waitUntil(async () => (await store.jobGet({ id }))?.status === 'completed', describeOutput, 30_000);
      assert.equal((await store.jobGet({ id }))?.result, 'hello Grace');
      assert.ok(await store.scheduleGet({ id: 'greet-hourly' }), 'the config schedule was declared');

      assert.equal(await stopWith(child, 'SIGTERM'), 0, describeOutput());
    });

    it('runs a worker alone, and hands a running job back when stopped with SIGINT', async () => {
      const child = cli.start(['worker', '--queues', 'slow,default', '--concurrency', '2', '--json']);
      const out = lines(child.stdout);
      const err = lines(child.stderr);
      const describeOutput = () => `stdout: ${out.join('\n')}\nstderr: ${err.join('\n')}`;
      await waitUntil(() => out.some((line) => line.startsWith('{')), describeOutput, 60_000);
      const started = JSON.parse(out.find((line) => line.startsWith('{')) as string);
      assert.deepEqual(
        [started.address, started.scheduler, started.worker],
        [null, false, { queues: ['slow', 'default'], concurrency: 2 }],
      );

      const enqueued = await cli.run(['enqueue', 'slow', '--json']);
      const { id } = enqueued.json().job;
      const store = cli.database().store;
      await waitUntil(async () => (await store.jobGet({ id }))?.status === 'running', describeOutput, 30_000);
      assert.equal(await stopWith(child, 'SIGINT'), 0, describeOutput());
      const job = await store.jobGet({ id });
      assert.deepEqual([job?.status, job?.attempt], ['available', 0], 'handed back without spending the attempt');
    });
  });
}
