import { readFileSync } from 'node:fs';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify';
import { createJsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { Jobyard } from '../core/index.js';
import { OptionChecker } from '../core/validation.js';
import { Scheduler } from '../scheduler/index.js';
import { access } from './access.js';
import {
  type AuditOptions,
  type ResolvedAuditOptions,
  recordMutatingCalls,
  resolveAuditOptions,
  ServicePruner,
} from './audit.js';
import { BEARER_SECURITY_SCHEME, bearerSecurityScheme, registerAuth } from './auth/hook.js';
import { type AuthOptions, type ResolvedAuth, resolveAuthOptions } from './auth/options.js';
import { EventStreams } from './event-streams.js';
import { ServiceMetrics } from './metrics.js';
import { problem, problemOf, sendProblem } from './problem.js';
import { enforceRateLimits, type RateLimitRule, type ResolvedRateLimitRule, resolveRateLimitRules } from './rate-limit.js';
import { assertStorable } from './request-checks.js';
import { auditRoutes } from './routes/audit.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { metricsRoute } from './routes/metrics.js';
import { previewRoute, scheduleRoutes } from './routes/schedules.js';
import { tokenRoutes } from './routes/tokens.js';

/** JobyardServiceOptions configure the HTTP service plugin. */
export interface JobyardServiceOptions {
  /** The client whose jobs, queues and tasks the API serves. */
  client: Jobyard;
  /**
   * The scheduler whose schedules the API serves. Without one, only the schedule preview of
   * the schedule routes is registered. @defaultValue none
   */
  scheduler?: Scheduler;
  /** Largest request body in bytes; a larger one is answered 413. @defaultValue 1048576 (1 MiB) */
  bodyLimit?: number;
  /**
   * Serve the OpenAPI 3.1 document at `/openapi.json` and Swagger UI at `/docs`. Turn it off
   * when the host app registers `@fastify/swagger` itself (it can be registered once per
   * context). @defaultValue true
   */
  docs?: boolean;
  /** How long `/health/ready` waits for the store's ping before reporting it not ready, in ms. @defaultValue 2000 */
  readyTimeoutMs?: number;
  /**
   * How long the scheduler or a worker of this process may go without progress before
   * `/health/ready` reports it stalled, in ms; never less than 3 of its poll intervals.
   * @defaultValue 30_000
   */
  stalledAfterMs?: number;
  /** A job running longer than this (its current attempt) is reported stuck by `/health/jobs`, in ms. @defaultValue 3_600_000 (1 h) */
  stuckAfterMs?: number;
  /** The recent window of `/health/jobs`' failure rate, in ms. @defaultValue 900_000 (15 min) */
  failureWindowMs?: number;
  /**
   * `/health/jobs` reports `degraded` when the failure rate of the window (failed / (completed
   * + failed)) is above this, from 0 to 1. @defaultValue 0.5
   */
  failureRateThreshold?: number;
  /**
   * How long `/metrics` reuses the job counts it read from the store, in ms: the counts are
   * one GROUP BY over the jobs table, so several scrapers in quick succession share one read.
   * 0 reads at every scrape. @defaultValue 5000
   */
  queueCountsCacheMs?: number;
  /** Also expose prom-client's default process metrics (CPU, memory, event loop lag, GC) at `/metrics`. @defaultValue false */
  processMetrics?: boolean;
  /**
   * Who may call what (docs/api.md, Authentication). On by default with API keys; add JWTs
   * or a dev token here. `false` turns authentication off, explicitly: every request then
   * acts as an anonymous admin, and the service logs a warning when it starts. Never do that
   * where anyone else can reach the port.
   * @defaultValue `{ apiKeys: true }` (API keys only)
   */
  auth?: AuthOptions | false;
  /**
   * Rate limits on the routes' actions, kept in the store so that they hold across processes:
   * a call a rule counts beyond its limit is answered 429 with `Retry-After` (see docs/api.md
   * and RATE_LIMIT_PRESETS for the seed apps' limits). @defaultValue [] (no limits)
   */
  rateLimits?: RateLimitRule[];
  /** Retention and pruning of the audit log of mutating calls. @defaultValue `{ retentionDays: 90, pruneIntervalMs: 3600000 }` */
  audit?: AuditOptions;
  /**
   * Interval of the heartbeat comment on `GET /api/events` streams, in ms (keeps proxies from
   * closing an idle stream and notices dead clients). @defaultValue 15000
   */
  eventsHeartbeatMs?: number;
}

/** ResolvedServiceOptions are JobyardServiceOptions validated, with defaults filled in. */
export interface ResolvedServiceOptions {
  client: Jobyard;
  scheduler: Scheduler | null;
  bodyLimit: number;
  docs: boolean;
  readyTimeoutMs: number;
  stalledAfterMs: number;
  stuckAfterMs: number;
  failureWindowMs: number;
  failureRateThreshold: number;
  queueCountsCacheMs: number;
  processMetrics: boolean;
  auth: ResolvedAuth;
  rateLimits: ResolvedRateLimitRule[];
  audit: ResolvedAuditOptions;
  eventsHeartbeatMs: number;
}

/** resolveServiceOptions validates the service options (one ValidationError naming every bad field) and fills in defaults. */
export function resolveServiceOptions(options: JobyardServiceOptions): ResolvedServiceOptions {
  const checker = new OptionChecker();
  if (!(options?.client instanceof Jobyard)) checker.problem('client', 'expected a Jobyard client');
  if (options?.scheduler !== undefined && !(options.scheduler instanceof Scheduler)) {
    checker.problem('scheduler', 'expected a Scheduler');
  }
  const bodyLimit = checker.integer('bodyLimit', options?.bodyLimit, 1, 100 * 1024 * 1024) ?? 1024 * 1024;
  const readyTimeoutMs = checker.integer('readyTimeoutMs', options?.readyTimeoutMs, 1, 60_000) ?? 2000;
  // The one environment variable the library reads: a dev token must never reach production.
  const auth = resolveAuthOptions(options?.auth, checker, { production: process.env.NODE_ENV === 'production' });
  const rateLimits = resolveRateLimitRules(checker, options?.rateLimits);
  const audit = resolveAuditOptions(checker, options?.audit);
  const stalledAfterMs = checker.integer('stalledAfterMs', options?.stalledAfterMs, 1, DAY_MS) ?? 30_000;
  const stuckAfterMs = checker.integer('stuckAfterMs', options?.stuckAfterMs, 1, 365 * DAY_MS) ?? 3_600_000;
  const failureWindowMs = checker.integer('failureWindowMs', options?.failureWindowMs, 1, 365 * DAY_MS) ?? 900_000;
  const failureRateThreshold = options?.failureRateThreshold ?? 0.5;
  if (typeof failureRateThreshold !== 'number' || !(failureRateThreshold >= 0 && failureRateThreshold <= 1)) {
    checker.problem('failureRateThreshold', 'expected a number from 0 to 1');
  }
  const queueCountsCacheMs = checker.integer('queueCountsCacheMs', options?.queueCountsCacheMs, 0, 3_600_000) ?? 5000;
  for (const flag of ['docs', 'processMetrics'] as const) {
    if (options?.[flag] !== undefined && typeof options[flag] !== 'boolean') checker.problem(flag, 'expected a boolean');
  }
  const eventsHeartbeatMs = checker.integer('eventsHeartbeatMs', options?.eventsHeartbeatMs, 10, 3_600_000) ?? 15_000;
  checker.throwIfAny('Invalid service options');
  return {
    client: options.client,
    scheduler: options.scheduler ?? null,
    bodyLimit,
    docs: options.docs ?? true,
    readyTimeoutMs,
    stalledAfterMs,
    stuckAfterMs,
    failureWindowMs,
    failureRateThreshold,
    queueCountsCacheMs,
    processMetrics: options.processMetrics ?? false,
    auth,
    rateLimits,
    audit,
    eventsHeartbeatMs,
  };
}

const DAY_MS = 86_400_000;

/**
 * jobyardService is the HTTP API as a Fastify plugin for an app to register, with a prefix
 * if it likes: `/health`, `/health/ready`, `/health/jobs`, `/metrics`, `/api/...`,
 * `/openapi.json` and `/docs` (see docs/api.md). It is encapsulated: its zod validation, problem JSON errors and body limit
 * apply to its own routes only. Under a prefix it also answers unknown routes below that
 * prefix with a problem 404; the app's other routes are left alone. Every route but health
 * and the docs needs a bearer token whose role is at least the route's (see `auth`).
 */
export const jobyardService: FastifyPluginAsync<JobyardServiceOptions> = async (app, options) => {
  const resolved = resolveServiceOptions(options);
  const { client, scheduler, bodyLimit, docs, auth, rateLimits, audit, eventsHeartbeatMs } = resolved;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  answerWithProblems(app, { notFound: app.prefix !== '' });
  acceptEmptyJsonBodies(app);
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= bodyLimit;
    requireAccess(app.prefix, route);
  });
  registerAuth(app, { auth, store: client.store, clock: client.clock, docs });
  app.addHook('preValidation', async (request) => {
    assertStorable(request.params, '');
    assertStorable(request.query, '');
    assertStorable(request.body, '');
  });
  const metrics = new ServiceMetrics(client, resolved);
  app.addHook('onClose', async () => metrics.close());
  // Rate limits answer 429 before the handler runs; every route of the service passes here.
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode !== 429) return;
    const action = request.routeOptions.config?.access?.action;
    if (action !== undefined) metrics.countRateLimited(action);
  });
  if (docs) await registerDocs(app, auth);
  // Both before the routes, which inherit hooks from this point on. The lifecycle orders
  // them after auth's onRequest: a bucket (preHandler) is taken and an entry (onSend) written
  // for the principal auth set, and a call auth refused spends nothing and is audited as it was.
  enforceRateLimits(app, client, rateLimits);
  recordMutatingCalls(app, client);
  if (audit.pruneIntervalMs !== null) {
    const pruner = new ServicePruner(client, { retentionDays: audit.retentionDays, intervalMs: audit.pruneIntervalMs });
    app.addHook('onReady', async () => pruner.start());
    app.addHook('onClose', () => pruner.stop());
  }
  await app.register(healthRoutes, resolved);
  await app.register(metricsRoute, { metrics });
  await app.register(jobRoutes, { client });
  await app.register(auditRoutes, { store: client.store });
  await app.register(previewRoute);
  if (scheduler) await app.register(scheduleRoutes, { scheduler });
  if (!auth.enabled || auth.apiKeys) await app.register(tokenRoutes, { store: client.store, clock: client.clock });
  const streams = new EventStreams(client, eventsHeartbeatMs);
  // Open streams would keep the server from closing: end them first.
  app.addHook('preClose', async () => streams.closeAll());
  await app.register(eventRoutes, { streams });
};

/**
 * requireAccess makes every route of the service declare its access (least role and action
 * name) in `config.access`, so that no route escapes auth, rate limits and audit by being
 * forgotten. The docs (Swagger UI and the OpenAPI document) are public.
 */
function requireAccess(prefix: string, route: RouteOptions): void {
  if (route.config?.access !== undefined) return;
  const path = route.url.slice(prefix.length);
  if (path === '/openapi.json' || path === '/docs' || path.startsWith('/docs/')) {
    route.config = { ...route.config, ...access('public', 'docs.read', { mutates: false }) };
    return;
  }
  throw new Error(`jobyard service route ${route.method} ${route.url} declares no config.access`);
}

/**
 * answerWithProblems makes a Fastify context answer every error as RFC 9457 problem JSON,
 * and with `notFound` also unknown routes (a context can set that once per prefix).
 */
export function answerWithProblems(app: FastifyInstance, { notFound }: { notFound: boolean }): void {
  app.setErrorHandler((error, request, reply) => {
    const body = problemOf(error);
    if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, body);
  });
  if (notFound) {
    app.setNotFoundHandler((request, reply) => {
      const url = request.url.length > 200 ? `${request.url.slice(0, 200)}...` : request.url;
      return sendProblem(reply, problem('JOBYARD_ROUTE_NOT_FOUND', `No route ${request.method} ${url}`));
    });
  }
}

/**
 * acceptEmptyJsonBodies lets a request declare `Content-Type: application/json` with no body
 * (what many clients send with a bodiless POST such as cancel); Fastify's own parser refuses it.
 */
export function acceptEmptyJsonBodies(app: FastifyInstance): void {
  // Fastify's default JSON parser, with prototype poisoning refused; it takes a callback.
  const parseJson = app.getDefaultJsonParser('error', 'error') as (
    request: FastifyRequest,
    body: string,
    done: (error: Error | null, body?: unknown) => void,
  ) => void;
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text === '') done(null, undefined);
    else parseJson(request, text, done);
  });
}

async function registerDocs(app: FastifyInstance, auth: ResolvedAuth): Promise<void> {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'jobyard',
        version,
        description:
          'Durable jobs and schedules over HTTP. Errors are RFC 9457 problem JSON (`application/problem+json`). ' +
          (auth.enabled
            ? 'Every operation but health and these docs needs `Authorization: Bearer <token>` with the role it names.'
            : 'Authentication is OFF on this server (auth: false): every caller acts as an admin.'),
      },
      ...(auth.enabled ? { components: { securitySchemes: { [BEARER_SECURITY_SCHEME]: bearerSecurityScheme } } } : {}),
      tags: [
        { name: 'jobs', description: 'Enqueue, query and steer jobs' },
        { name: 'queues', description: 'Queue statistics' },
        { name: 'schedules', description: 'Schedules and trigger previews' },
        { name: 'tokens', description: 'API keys (admin)' },
        { name: 'audit', description: 'The audit log of mutating calls' },
        { name: 'events', description: 'Live job and schedule state changes (Server-Sent Events)' },
        { name: 'health', description: 'Liveness, readiness, job health and metrics' },
      ],
    },
    transform: createJsonSchemaTransform({ skipList: [] }),
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
