import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler, RouteOptions } from 'fastify';
import type { Jobyard } from '../core/index.js';
import { OptionChecker } from '../core/validation.js';
import { RATE_LIMIT_BOUNDS, type RateLimitTakeResult } from '../store/index.js';
import { problem, sendProblem } from './problem.js';
import { PROBLEM_CONTENT_TYPE, ProblemSchema } from './schemas/common.js';

/**
 * RateLimitScope says whose calls share a bucket: each principal's own (`principal`; with
 * `auth: false`, where no caller proves who it is, each client address's), each client
 * address's (`client`), or everyone's together (`global`).
 */
export type RateLimitScope = 'principal' | 'client' | 'global';

/** RateLimitRule limits the calls of some actions (see `config.access` of each route) of the HTTP service. */
export interface RateLimitRule {
  /** The action or actions it applies to, e.g. `'schedules.run'` or `['jobs.enqueue', 'schedules.run']`. */
  action: string | readonly string[];
  /**
   * Only enqueues (`jobs.enqueue`, then the rule's only action) of these tasks count; the
   * task is the request body's `task`. @defaultValue every task
   */
  task?: string | readonly string[];
  /** Calls allowed per window; integer 1-1,000,000. */
  limit: number;
  /** The window in ms (see RateLimitTakeParams for the exact rule: a token bucket that refills over it). */
  windowMs: number;
  /** Whose calls share one bucket. @defaultValue 'principal' */
  scope?: RateLimitScope;
  /**
   * Names the rule in its store keys (`http:<name>:...`) and in 429 answers; rules must have
   * distinct names. @defaultValue the actions (and tasks), e.g. `jobs.enqueue[report.build]`
   */
  name?: string;
}

/** ResolvedRateLimitRule is a RateLimitRule validated, with defaults filled in. */
export interface ResolvedRateLimitRule {
  name: string;
  actions: ReadonlySet<string>;
  tasks: ReadonlySet<string> | null;
  limit: number;
  windowMs: number;
  scope: RateLimitScope;
}

const HOUR_MS = 3_600_000;

/**
 * RATE_LIMIT_PRESETS are the limits the seed apps asked for, to use as they are or spread
 * and adjust (`{ ...RATE_LIMIT_PRESETS.userRefresh, task: 'projects.refresh' }`). Each is per
 * principal.
 */
export const RATE_LIMIT_PRESETS = {
  /** Manual triggers, 5 per hour per principal: running a schedule now or enqueueing a job over the API. */
  manualTriggers: { name: 'manual-triggers', action: ['jobs.enqueue', 'schedules.run'], limit: 5, windowMs: HOUR_MS },
  /** A user's manual refresh, 5 per 300 s per principal (enqueues; add `task` to count one task only). */
  userRefresh: { name: 'user-refresh', action: 'jobs.enqueue', limit: 5, windowMs: 300_000 },
} as const satisfies Record<string, RateLimitRule>;

const RULE_NAME_PATTERN = /^[A-Za-z0-9_.:\-/[\]+,]{1,200}$/;
const SCOPES: readonly RateLimitScope[] = ['principal', 'client', 'global'];

/** resolveRateLimitRules validates the `rateLimits` service option into `checker` and returns the resolved rules. */
export function resolveRateLimitRules(checker: OptionChecker, value: unknown): ResolvedRateLimitRule[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    checker.problem('rateLimits', 'expected an array of rules');
    return [];
  }
  const rules: ResolvedRateLimitRule[] = [];
  for (const [index, rule] of value.entries()) {
    const resolved = resolveRule(checker, `rateLimits.${index}.`, rule);
    if (resolved === undefined) continue;
    if (rules.some((earlier) => earlier.name === resolved.name)) {
      checker.problem(
        `rateLimits.${index}.name`,
        `another rule is named ${JSON.stringify(resolved.name)}: give each its own name`,
      );
    }
    rules.push(resolved);
  }
  return rules;
}

/** resolveRule validates one rule, its fields reported under `path` (a prefix ending in a dot, or empty). */
function resolveRule(checker: OptionChecker, path: string, rule: Partial<RateLimitRule>): ResolvedRateLimitRule | undefined {
  if (typeof rule !== 'object' || rule === null) {
    checker.problem(path.slice(0, -1), 'expected a rule object');
    return undefined;
  }
  const actions = namesOf(checker, `${path}action`, rule.action);
  const tasks = rule.task === undefined ? null : namesOf(checker, `${path}task`, rule.task);
  if (tasks !== null && (actions.length !== 1 || actions[0] !== 'jobs.enqueue')) {
    checker.problem(`${path}task`, "a task filter needs action 'jobs.enqueue' alone");
  }
  if (rule.limit === undefined) checker.problem(`${path}limit`, 'required');
  if (rule.windowMs === undefined) checker.problem(`${path}windowMs`, 'required');
  const limit = checker.integer(`${path}limit`, rule.limit, 1, RATE_LIMIT_BOUNDS.limit);
  const windowMs = checker.integer(`${path}windowMs`, rule.windowMs, 1, RATE_LIMIT_BOUNDS.windowMs);
  const scope = rule.scope ?? 'principal';
  if (!SCOPES.includes(scope)) checker.problem(`${path}scope`, `expected one of ${SCOPES.join(', ')}`);
  const name = rule.name ?? `${actions.join('+')}${tasks === null ? '' : `[${tasks.join('+')}]`}`;
  const validName = typeof name === 'string' && RULE_NAME_PATTERN.test(name);
  if (!validName) checker.problem(`${path}name`, 'expected 1-200 of letters, digits and _ . : - / [ ] + ,');
  if (limit === undefined || windowMs === undefined || !validName) return undefined;
  return { name, actions: new Set(actions), tasks: tasks && new Set(tasks), limit, windowMs, scope };
}

function namesOf(checker: OptionChecker, path: string, value: unknown): string[] {
  const names = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(names) || names.length === 0 || !names.every((name) => typeof name === 'string' && name.length > 0)) {
    checker.problem(path, 'expected a non-empty string or a non-empty array of them');
    return [];
  }
  return names as string[];
}

/** ruleApplies says whether a rule counts a call of `action` with this request body. */
function ruleApplies(rule: ResolvedRateLimitRule, action: string, body: unknown): boolean {
  if (!rule.actions.has(action)) return false;
  if (rule.tasks === null) return true;
  const task = (body as { task?: unknown } | null | undefined)?.task;
  return typeof task === 'string' && rule.tasks.has(task);
}

/**
 * scopeKey names the bucket of a request within a rule's scope. A caller who proved no
 * identity (with `auth: false` every caller is the one principal `anonymous`) is told apart
 * by its address only: one bucket for all of them would let one client starve the others.
 */
function scopeKey(scope: RateLimitScope, request: FastifyRequest): string {
  if (scope === 'global') return 'global';
  const principal = request.principal ?? null;
  const identified = principal !== null && principal.via !== 'anonymous';
  return scope === 'principal' && identified ? `principal:${principal.id}` : `client:${request.ip}`;
}

/**
 * storeKey joins a bucket's prefix and its caller-given part, hashing the part when the key
 * would pass the store's bound (a very long JWT subject or app key).
 */
function storeKey(prefix: string, part: string): string {
  const plain = `${prefix}:${part}`;
  return plain.length <= RATE_LIMIT_BOUNDS.keyLength
    ? plain
    : `${prefix}:sha256:${createHash('sha256').update(part).digest('hex')}`;
}

/** RateLimitCheck is one bucket a request takes from: its store key and its rule's numbers. */
interface RateLimitCheck {
  key: string;
  name: string;
  limit: number;
  windowMs: number;
}

/**
 * takeOrRefuse takes one unit of each check in turn and stops at the first refusal (the
 * buckets taken before it stay spent). It sets the limit headers of the tightest bucket and,
 * refused, answers 429 with `Retry-After`. Returns whether the request may go on.
 */
async function takeOrRefuse(client: Jobyard, checks: RateLimitCheck[], reply: FastifyReply): Promise<boolean> {
  let tightest: { check: RateLimitCheck; result: RateLimitTakeResult } | undefined;
  const now = client.clock.now();
  for (const check of checks) {
    const result = await client.store.rateLimitTake({ key: check.key, limit: check.limit, windowMs: check.windowMs, now });
    if (!result.allowed) {
      setLimitHeaders(reply, check, result, now);
      const retryAfterSeconds = Math.ceil(result.retryAfterMs / 1000);
      reply.header('retry-after', String(retryAfterSeconds));
      sendProblem(
        reply,
        problem(
          'JOBYARD_RATE_LIMITED',
          `Rate limit ${JSON.stringify(check.name)} of ${check.limit} per ${describeWindow(check.windowMs)} exceeded; retry in ${retryAfterSeconds} s`,
        ),
      );
      return false;
    }
    if (tightest === undefined || result.remaining < tightest.result.remaining) tightest = { check, result };
  }
  if (tightest) setLimitHeaders(reply, tightest.check, tightest.result, now);
  return true;
}

/** setLimitHeaders writes the IETF draft's RateLimit-Limit, -Remaining, -Reset (seconds) and -Policy headers. */
function setLimitHeaders(reply: FastifyReply, check: RateLimitCheck, result: RateLimitTakeResult, now: Date): void {
  reply.header('ratelimit-limit', String(result.limit));
  reply.header('ratelimit-remaining', String(result.remaining));
  reply.header('ratelimit-reset', String(Math.max(0, Math.ceil((result.resetAt.getTime() - now.getTime()) / 1000))));
  reply.header('ratelimit-policy', `${check.limit};w=${Math.ceil(check.windowMs / 1000)}`);
}

function describeWindow(windowMs: number): string {
  return windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`;
}

/** RATE_LIMITED_RESPONSE documents a 429 answer in OpenAPI. */
const RATE_LIMITED_RESPONSE = {
  description: 'Rate limit exceeded (`Retry-After` says when to try again)',
  content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
};

/**
 * enforceRateLimits makes the service's routes honour `rules`: every call of a route whose
 * action a rule names takes from that rule's bucket before its handler runs, and routes that
 * a rule may refuse document the 429 answer. It runs as a preHandler, after authentication
 * has set `request.principal` (in an earlier hook) and after the body was validated (a rule
 * by task reads the body), so malformed calls spend nothing. Call it before the routes are
 * registered.
 */
export function enforceRateLimits(app: FastifyInstance, client: Jobyard, rules: ResolvedRateLimitRule[]): void {
  if (rules.length === 0) return;
  app.addHook('onRoute', (route: RouteOptions) => {
    const action = route.config?.access?.action;
    if (action === undefined || !rules.some((rule) => rule.actions.has(action)) || route.schema?.hide) return;
    const responses = (route.schema?.response ?? {}) as Record<string, unknown>;
    route.schema = { ...route.schema, response: { ...responses, 429: RATE_LIMITED_RESPONSE } };
  });
  app.addHook('preHandler', async (request, reply) => {
    const action = request.routeOptions.config.access?.action;
    if (action === undefined) return;
    const checks = rules
      .filter((rule) => ruleApplies(rule, action, request.body))
      .map((rule) => ({ ...rule, key: storeKey(`http:${rule.name}`, scopeKey(rule.scope, request)) }));
    if (checks.length > 0 && !(await takeOrRefuse(client, checks, reply))) return reply;
  });
}

/** RouteRateLimitOptions configure routeRateLimit. */
export interface RouteRateLimitOptions {
  /** The client whose store keeps the buckets (shared by every process on the database) and whose clock tells the time. */
  client: Jobyard;
  /** Names the limit: its store keys are `route:<name>:<key>` and its 429 answers quote it. */
  name: string;
  /** Calls allowed per window; integer 1-1,000,000. */
  limit: number;
  /** The window in ms (a token bucket that refills over it, see RateLimitTakeParams). */
  windowMs: number;
  /**
   * The bucket of a request, e.g. the signed-in user's id; null lets the request through
   * uncounted. @defaultValue the client address (`request.ip`)
   */
  key?: (request: FastifyRequest) => string | null | Promise<string | null>;
}

/**
 * routeRateLimit builds a Fastify preHandler that limits calls of an app's own route per key
 * (per user, say) with the same store buckets, headers and 429 problem JSON as the service:
 *
 * ```ts
 * app.post('/projects/:id/refresh', {
 *   preHandler: routeRateLimit({ client: jobyard, name: 'projects.refresh', limit: 5, windowMs: 300_000,
 *     key: (request) => request.user.id }),
 * }, handler);
 * ```
 *
 * Options are checked when it is built (ValidationError). A call that the route then fails
 * still counts.
 */
export function routeRateLimit(options: RouteRateLimitOptions): preHandlerAsyncHookHandler {
  const rule = resolveRouteRule(options);
  const { client, name, key = (request: FastifyRequest) => request.ip } = options;
  return async function rateLimited(request, reply) {
    const bucket = await key(request);
    if (bucket === null) return;
    if (!(await takeOrRefuse(client, [{ ...rule, key: storeKey(`route:${name}`, bucket) }], reply))) return reply;
  };
}

/** resolveRouteRule validates routeRateLimit's options with the checks of a service rule; throws ValidationError. */
function resolveRouteRule(options: RouteRateLimitOptions): ResolvedRateLimitRule {
  const checker = new OptionChecker();
  if (typeof options?.client?.store?.rateLimitTake !== 'function') checker.problem('client', 'expected a Jobyard client');
  if (typeof options?.name !== 'string') checker.problem('name', 'required');
  if (options?.key !== undefined && typeof options.key !== 'function') checker.problem('key', 'expected a function');
  const resolved = resolveRule(checker, '', {
    name: options?.name,
    action: 'route',
    limit: options?.limit,
    windowMs: options?.windowMs,
  });
  checker.throwIfAny('Invalid route rate limit');
  return resolved as ResolvedRateLimitRule;
}
