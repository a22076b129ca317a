import pg from 'pg';
import { pino } from 'pino';
import { defineTask, Jobyard } from '../src/index.js';
import { createPostgresStore } from '../src/stores/postgres/store.js';
import * as sql from '../src/stores/postgres/sql.js';
const schema = `expl_${process.pid}`;
const url = 'postgres://postgres@127.0.0.1:5432/test';
const store = await createPostgresStore({ connectionString: url, schema });
await store.migrate();
const task = defineTask('noop', { handler: () => null });
const client = new Jobyard({ store, tasks: [task], logger: pino({ level: 'warn' }) });
for (let i = 0; i < 50000; i += 10000) await client.enqueueMany(task, Array.from({ length: 10000 }, (_, n) => ({ n: i + n })));
const c = new pg.Client(url); await c.connect();
await c.query('VACUUM ANALYZE "' + schema + '".jobs');
const now = new Date();
for (let round = 0; round < 3; round++) {
  const claim = sql.claimJobs(schema);
  const t0 = performance.now();
  const r = await c.query({ text: 'EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) ' + claim.text, values: [['default'], now, 500, 'w', 30000] });
  if (round === 2) console.log(r.rows.map((x) => x['QUERY PLAN']).join('\n'));
  const claimed = await c.query({ text: claim.text, values: [['default'], now, 500, 'w', 30000] });
  const settle = sql.settleJobs(schema);
  const rows = claimed.rows.map((row, index) => ({ index, id: row.id, lease_token: row.lease_token, kind: 'completed', result: null }));
  const s = await c.query({ text: 'EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) ' + settle.text, values: [JSON.stringify(rows), now] });
  if (round === 2) console.log(s.rows.map((x) => x['QUERY PLAN']).join('\n'));
  await c.query({ text: settle.text, values: [JSON.stringify(rows), now] });
}
await c.query(`DROP SCHEMA "${schema}" CASCADE`); await c.end(); await client.close();
