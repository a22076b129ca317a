import type { Command } from 'commander';
import { createApiToken, listApiTokens, revokeApiToken } from '../../service/index.js';
import type { ApiToken, Role } from '../../types/index.js';
import { type GlobalOptions, withStore } from '../context.js';
import { print, table, time } from '../output.js';

/** registerTokens adds `token create|ls|revoke`: the API keys of the HTTP API (docs/api.md, Authentication). */
export function registerTokens(program: Command): void {
  const token = program.command('token').description('Create, list and revoke API keys of the HTTP API');

  token
    .command('create')
    .description('Create an API key and print its secret, which is shown this once only')
    .requiredOption('--name <name>', 'a name unique among live keys, e.g. the caller it is for')
    .requiredOption('--role <role>', 'viewer (read), operator (steer jobs, queues, schedules) or admin (everything)')
    .action(async (_options, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { name: string; role: string }>();
      // An unknown role is refused by the store's check (JOBYARD_VALIDATION, exit 2).
      const created = await withStore(options, (store) =>
        createApiToken(store, { name: options.name, role: options.role as Role }),
      );
      print(options.json, created, ({ token: made, secret }) =>
        [
          `created API key ${made.name} (role ${made.role}, id ${made.id})`,
          `secret, shown this once only: ${secret}`,
          `  send it as: Authorization: Bearer ${secret}`,
        ].join('\n'),
      );
    });

  token
    .command('ls')
    .description('List API keys, oldest first (never their secrets)')
    .option('--all', 'revoked keys too')
    .action(async (_options, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { all?: boolean }>();
      const tokens = await withStore(options, (store) => listApiTokens(store, { includeRevoked: options.all === true }));
      print(options.json, tokens, (all) =>
        table(
          ['ID', 'NAME', 'ROLE', 'CREATED', 'LAST USED', 'REVOKED'],
          all.map((listed: ApiToken) => [
            listed.id,
            listed.name,
            listed.role,
            time(listed.createdAt),
            time(listed.lastUsedAt),
            time(listed.revokedAt),
          ]),
        ),
      );
    });

  token
    .command('revoke')
    .description('Revoke an API key by id or by the name of a live key; requests with it are refused from then on')
    .argument('<id-or-name>', 'the key id, or the name of a live key')
    .action(async (idOrName: string, _options, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const revoked = await withStore(options, (store) => revokeApiToken(store, idOrName));
      print(options.json, revoked, ({ id, name }) => `revoked API key ${name} (id ${id})`);
    });
}
