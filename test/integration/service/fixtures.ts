import assert from 'node:assert/strict';
import { afterEach, beforeEach } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { pino } from 'pino';
import { z } from 'zod';
import { defineTask, Jobyard } from '../../../src/core/index.js';
import { Scheduler, type SchedulerOptions } from '../../../src/scheduler/index.js';
import { createApiToken, createServer, type ServerOptions } from '../../../src/service/index.js';
import type { Store } from '../../../src/store/index.js';
import type { Clock, Role } from '../../../src/types/index.js';

/** MakeStore builds one fresh, migrated store (a temp SQLite file, a fresh PostgreSQL schema) and its disposal. */
export type MakeStore = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

/** sendEmail has a schema with a default, so the stored payload differs from the one sent. */
export const sendEmail = defineTask('email.send', {
  schema: z.object({ to: z.string().email(), subject: z.string().default('Hello') }),
  handler: async ({ to }) => ({ sentTo: to }),
});

/** noop takes any JSON payload and lives in its own queue. */
export const noop = defineTask('noop', { queue: 'other', handler: async () => null });

export const silentLogger = pino({ level: 'silent' });

/**
 * ADMIN_TOKEN is the dev token every harness registers, and that `call` sends unless the
 * request names its own `authorization`: tests whose subject is not auth act as an admin.
 */
export const ADMIN_TOKEN = 'test-admin-dev-token';

/** bearer is the Authorization header value of a token. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/** NO_CREDENTIALS are the headers of a caller without credentials (`call` then sends no admin token). */
export const NO_CREDENTIALS = { authorization: '' } as const;

/** Answer is an inject response with its JSON body parsed (or the raw text when it is not JSON). */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: any;
  raw: string;
}

/** ServiceHarness hands a test a client, a scheduler and the server on a fresh database. */
export interface ServiceHarness {
  client(): Jobyard;
  scheduler(): Scheduler;
  app(): FastifyInstance;
  /** call sends one request through Fastify's inject (no socket), as an admin unless it sets `authorization`, and parses the answer. */
  call(method: InjectOptions['method'], url: string, options?: Omit<InjectOptions, 'method' | 'url'>): Promise<Answer>;
}

/** HarnessOptions shape the client and server of a harness beyond the service's options. */
export interface HarnessOptions {
  /** The client's clock (a FakeClock drives rate limits and audit times). @defaultValue the system clock */
  clock?: Clock;
  /** Options of the (not started) scheduler. @defaultValue the scheduler's defaults */
  scheduler?: SchedulerOptions;
}

/**
 * useService gives every test of the enclosing describe a fresh database, a client with the
 * test tasks, a scheduler (not started) and a server whose auth accepts ADMIN_TOKEN (and API
 * keys) unless `options.auth` says otherwise, and disposes of them afterwards.
 */
export function useService(
  makeStore: MakeStore,
  options: Partial<Omit<ServerOptions, 'client'>> = {},
  { clock, scheduler: schedulerOptions }: HarnessOptions = {},
): ServiceHarness {
  let current: { client: Jobyard; scheduler: Scheduler; app: FastifyInstance; cleanup: () => Promise<void> } | undefined;
  beforeEach(async () => {
    const { store, cleanup } = await makeStore();
    const client = new Jobyard({ store, tasks: [sendEmail, noop], logger: silentLogger, ...(clock ? { clock } : {}) });
    const scheduler = new Scheduler(client, schedulerOptions);
    const app = createServer({ client, scheduler, logger: silentLogger, auth: { devToken: ADMIN_TOKEN }, ...options });
    await app.ready();
    current = { client, scheduler, app, cleanup };
  });
  afterEach(async () => {
    const finished = current;
    current = undefined;
    await finished?.app.close();
    await finished?.client.close();
    await finished?.cleanup();
  });
  const get = () => {
    assert.ok(current, 'the harness is only available inside a test');
    return current;
  };
  return {
    client: () => get().client,
    scheduler: () => get().scheduler,
    app: () => get().app,
    call: (method, url, rest = {}) =>
      inject(get().app, { ...rest, headers: { ...bearer(ADMIN_TOKEN), ...rest.headers }, method, url }),
  };
}

/** Caller is a principal of its own for a test: an API key, and the headers that authenticate as it. */
export interface Caller {
  /** The principal id the service sees (the key's id). */
  id: string;
  name: string;
  role: Role;
  headers: { authorization: string };
}

/**
 * createCaller makes an API key named `name` with `role` in the harness's store, as
 * `jobyard token create` would, so that a test can call as a distinct, real principal.
 */
export async function createCaller(harness: ServiceHarness, name: string, role: Role = 'operator'): Promise<Caller> {
  const client = harness.client();
  const { token, secret } = await createApiToken(client.store, { name, role, now: client.clock.now() });
  return { id: token.id, name, role, headers: bearer(secret) };
}

/**
 * useCallers makes, before each test, one caller per entry of `roles` (name to role) after
 * `reset` (e.g. setting the test's clock back), and returns them by name: read them inside
 * tests, since each test gets new keys.
 */
export function useCallers<Name extends string>(
  harness: ServiceHarness,
  roles: Record<Name, Role>,
  reset: () => void = () => {},
): Record<Name, Caller> {
  const callers = {} as Record<Name, Caller>;
  beforeEach(async () => {
    reset();
    for (const [name, role] of Object.entries(roles) as [Name, Role][]) {
      callers[name] = await createCaller(harness, name, role);
    }
  });
  return callers;
}

/** inject sends one request to `app` and parses the answer. */
export async function inject(app: FastifyInstance, request: InjectOptions): Promise<Answer> {
  const response = await app.inject(request);
  const type = String(response.headers['content-type'] ?? '');
  return {
    status: response.statusCode,
    headers: response.headers,
    body: type.includes('json') && response.body !== '' ? JSON.parse(response.body) : response.body,
    raw: response.body,
  };
}

/** assertProblem checks an answer is RFC 9457 problem JSON with this status (and code), and returns its body. */
export function assertProblem(answer: Answer, status: number, code?: string): any {
  assert.equal(answer.status, status, answer.raw);
  assert.match(String(answer.headers['content-type']), /^application\/problem\+json/);
  const { body } = answer;
  assert.equal(body.status, status);
  for (const field of ['type', 'title', 'detail', 'code'])
    assert.equal(typeof body[field], 'string', `${field} in ${answer.raw}`);
  assert.match(body.type, /^urn:jobyard:problem:[a-z-]+$/);
  if (code !== undefined) assert.equal(body.code, code, answer.raw);
  return body;
}

/** assertFieldError checks a problem names the field at `path` among its errors. */
export function assertFieldError(problem: any, path: string): void {
  assert.ok(
    Array.isArray(problem.errors) && problem.errors.some((error: { path: string }) => error.path === path),
    `expected a field error at ${JSON.stringify(path)} in ${JSON.stringify(problem.errors)}`,
  );
}
