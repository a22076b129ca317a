import type { AdapterFactory } from '../adapter.js';
import { bullMq } from './bullmq.js';
import { graphileWorker } from './graphile-worker.js';
import { jobyardPostgres, jobyardSqlite } from './jobyard.js';
import { pgBoss } from './pg-boss.js';

/** ADAPTERS are the systems under test, in the order of every table and chart. */
export const ADAPTERS = {
  'jobyard-pg': jobyardPostgres,
  'jobyard-sqlite': jobyardSqlite,
  'graphile-worker': graphileWorker,
  'pg-boss': pgBoss,
  bullmq: bullMq,
} satisfies Record<string, AdapterFactory>;

export type AdapterName = keyof typeof ADAPTERS;

export const ADAPTER_NAMES = Object.keys(ADAPTERS) as AdapterName[];
