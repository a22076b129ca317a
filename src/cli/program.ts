import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerJobs } from './commands/jobs.js';
import { registerQueues } from './commands/queues.js';
import { registerSchedules } from './commands/schedules.js';
import { registerServe } from './commands/serve.js';
import { registerTokens } from './commands/tokens.js';
import { chooseStore, describeStore, type GlobalOptions, openStore } from './context.js';
import { EXIT_CODES, exitCodeOf } from './exit-codes.js';
import { loadConfig } from './load-config.js';
import { print } from './output.js';

/** buildProgram assembles the `jobyard` command line; see docs/cli.md. */
export function buildProgram(): Command {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const program = new Command('jobyard')
    .description('Durable jobs and schedules: serve the API, run workers, steer jobs, queues and schedules')
    .version(version)
    .option('-c, --config <file>', 'config module (default: ./jobyard.config.ts, .mts, .js or .mjs when present)')
    .option('-d, --database <url|file>', 'a postgres:// URL or a SQLite file; overrides DATABASE_URL, JOBYARD_DB and the config')
    .option('--json', 'write results as JSON, for scripts')
    .showHelpAfterError('(run with --help for usage)')
    // Usage errors exit with 2 (EXIT_CODES.usage) instead of commander's 1: see run().
    .exitOverride();

  registerServe(program);

  program
    .command('migrate')
    .description('Apply pending database migrations (every other command also migrates as it opens the store)')
    .action(async (_options, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const { config } = await loadConfig(options.config);
      const chosen = chooseStore(config, options.database);
      const store = await openStore(chosen, { migrate: false });
      try {
        const result = await store.migrate();
        print(options.json, result, ({ applied, version }) =>
          applied.length === 0
            ? `${describeStore(chosen)}: schema version ${version}, nothing to apply`
            : `${describeStore(chosen)}: applied ${applied.join(', ')}; schema version ${version}`,
        );
      } finally {
        await store.close();
      }
    });

  registerJobs(program);
  registerSchedules(program);
  registerQueues(program);
  registerTokens(program);
  return program;
}

/** run parses `argv` (without node and the script) and runs the command; resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end in a CommanderError too, with exit code 0; commander printed the message.
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    const json = argv.includes('--json');
    reportError(error, json);
    return exitCodeOf(error);
  }
}

/** reportError writes a failure to stderr: `error: message` (with each rejected field), or one JSON line with `--json`. */
function reportError(error: unknown, json: boolean): void {
  const { code, message, issues } = error as { code?: unknown; message?: unknown; issues?: { path: string; message: string }[] };
  const text = error instanceof Error ? String(message) : String(error);
  if (json) {
    process.stderr.write(
      `${JSON.stringify({ error: { code: typeof code === 'string' ? code : null, message: text, issues } })}\n`,
    );
    return;
  }
  process.stderr.write(`error: ${text}\n`);
}
