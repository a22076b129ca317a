import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { defineTask, Jobyard } from '../src/index.js';
import { createPostgresStore } from '../src/stores/postgres/store.js';
import { createSqliteStore } from '../src/stores/sqlite/store.js';

const kind = process.argv[2] ?? 'postgres';
const prefetch = Number(process.argv[3] ?? 500);
const N = Number(process.argv[4] ?? 50000);
const schema = `prof_${process.pid}`;
const store = kind === 'postgres'
  ? await createPostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', schema })
  : await createSqliteStore({ filename: `/tmp/prof-${process.pid}.db` });
await store.migrate();
let done = 0; let finish!: () => void; const finished = new Promise<void>((r) => (finish = r));
const task = defineTask('noop', { handler: () => null });
const client = new Jobyard({ store, tasks: [task], logger: pino({ level: 'warn' }) });
client.events.on('job:completed', () => { if (++done === N) finish(); });
for (let i = 0; i < N; i += 10000) await client.enqueueMany(task, Array.from({ length: 10000 }, (_, n) => ({ n: i + n })));
const session = new Session(); session.connect();
const profile = process.env.PROFILE === '1';
if (profile) { await session.post('Profiler.enable'); await session.post('Profiler.start'); }
const t0 = performance.now(); const elu0 = performance.eventLoopUtilization();
await client.start({ concurrency: 24, prefetch });
await finished;
const ms = performance.now() - t0; const elu = performance.eventLoopUtilization(elu0);
if (profile) { const { profile: p } = await session.post('Profiler.stop'); writeFileSync('/tmp/drain.cpuprofile', JSON.stringify(p)); }
console.log(`${kind} prefetch ${prefetch}: ${(N / ms * 1000).toFixed(0)} jobs/s, loop busy ${(elu.utilization * 100).toFixed(0)}%`);
await client.close();
if (kind === 'postgres') { const pg = (await import('pg')).default; const c = new pg.Client('postgres://postgres@127.0.0.1:5432/test'); await c.connect(); await c.query(`DROP SCHEMA ${schema} CASCADE`); await c.end(); }
