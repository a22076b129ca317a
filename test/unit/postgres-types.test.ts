import assert from 'node:assert/strict';
import { it } from 'node:test';
import pg from 'pg';
import { parseTimestamptz } from '../../src/stores/postgres/types.js';

const nodePostgres = pg.types.getTypeParser(1184, 'text') as (text: string) => Date | number;

it('parses every timestamptz form PostgreSQL prints as node-postgres does', () => {
  const samples = [
    '2026-11-23 13:17:21.123456+00',
    '2026-11-23 13:17:21+00',
    '2026-11-23 13:17:21.1+05',
    '2026-11-23 13:17:21.123+05:30',
    '1999-01-08 04:05:06-08',
    '2026-03-29 01:30:00.5-03:30',
    '0044-03-15 12:00:00+00 BC',
    '1900-01-01 00:00:00+00:19:32',
  ];
  for (const text of samples) {
    assert.equal(parseTimestamptz(text).getTime(), (nodePostgres(text) as Date).getTime(), text);
  }
});

it('leaves what it does not recognise to node-postgres', () => {
  assert.equal(parseTimestamptz('infinity'), nodePostgres('infinity'));
  assert.equal(parseTimestamptz('-infinity'), nodePostgres('-infinity'));
});
