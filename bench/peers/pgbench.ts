/**
 * The physical reference of this machine: pgbench against the same PostgreSQL, in a
 * database of its own that is created for the run and dropped after it.
 *   - `SELECT 1` round trips per second, from 1 and from 16 clients;
 *   - a transaction of one INSERT and one UPDATE (what a queue pays per job, at least)
 *     per second from 16 clients: the ceiling a one-job-per-transaction design meets.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { withPg } from './pg-admin.js';

const run = promisify(execFile);

const DATABASE = 'jobyard_peers_pgbench';
const ACCOUNTS = 100_000;

export interface PgbenchFigures {
  select1OneClient: number;
  select1SixteenClients: number;
  insertUpdateSixteenClients: number;
}

const SELECT_ONE = 'SELECT 1;\n';
// One row written and one row updated per transaction, the updates spread so that clients rarely wait on each other.
const INSERT_UPDATE = `\\set id random(1, ${ACCOUNTS})
BEGIN;
INSERT INTO bench_events (account_id, payload) VALUES (:id, '{"n": 1}');
UPDATE bench_accounts SET balance = balance + 1 WHERE id = :id;
END;
`;

/** runPgbench measures the three reference figures, `seconds` each. */
export async function runPgbench(pgUrl: string, seconds: number): Promise<PgbenchFigures> {
  const url = new URL(pgUrl);
  const benchUrl = new URL(pgUrl);
  benchUrl.pathname = `/${DATABASE}`;
  await withPg(pgUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
    await client.query(`CREATE DATABASE ${DATABASE}`);
  });
  try {
    await withPg(benchUrl.href, async (client) => {
      await client.query('CREATE TABLE bench_events (id bigserial PRIMARY KEY, account_id int NOT NULL, payload jsonb NOT NULL)');
      await client.query('CREATE TABLE bench_accounts (id int PRIMARY KEY, balance bigint NOT NULL)');
      await client.query(`INSERT INTO bench_accounts SELECT g, 0 FROM generate_series(1, ${ACCOUNTS}) g`);
      await client.query('VACUUM ANALYZE bench_accounts');
    });
    const select1 = join(tmpdir(), 'jobyard-peers-select1.sql');
    const insertUpdate = join(tmpdir(), 'jobyard-peers-insert-update.sql');
    await writeFile(select1, SELECT_ONE);
    await writeFile(insertUpdate, INSERT_UPDATE);
    const pgbench = async (script: string, clients: number) => {
      const args = [
        '-h',
        url.hostname,
        '-p',
        url.port || '5432',
        '-U',
        decodeURIComponent(url.username || 'postgres'),
        '-n',
        '-M',
        'prepared',
        '-c',
        String(clients),
        '-j',
        String(Math.min(clients, 2)),
        '-T',
        String(seconds),
        '-f',
        script,
        DATABASE,
      ];
      const { stdout } = await run('pgbench', args, { timeout: (seconds + 60) * 1000 });
      const tps = /tps = ([\d.]+)/.exec(stdout)?.[1];
      if (tps === undefined) throw new Error(`pgbench printed no tps:\n${stdout}`);
      return Number(tps);
    };
    return {
      select1OneClient: await pgbench(select1, 1),
      select1SixteenClients: await pgbench(select1, 16),
      insertUpdateSixteenClients: await pgbench(insertUpdate, 16),
    };
  } finally {
    await withPg(pgUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${DATABASE}`));
  }
}
