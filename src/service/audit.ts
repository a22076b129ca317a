import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Jobyard } from '../core/index.js';
import { PeriodicLoop } from '../core/periodic-loop.js';
import type { OptionChecker } from '../core/validation.js';
import type { Store } from '../store/index.js';
import type { AuditEntryInput, AuditOutcome, AuditPrincipal } from '../types/index.js';
import type { RouteAccess } from './access.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * What the call acts on, for the audit log, when the path parameters do not say it: a
     * route that creates something (enqueue) sets the new id here.
     */
    auditTarget: string | null;
  }
}

/** AuditOptions configure the audit log of the HTTP service. */
export interface AuditOptions {
  /** Days an audit entry is kept; older ones are pruned. Integer 1-36500. @defaultValue 90 */
  retentionDays?: number;
  /**
   * How often the service prunes audit entries past retention and rate limit keys that are
   * whole again, in ms; null never (run pruneServiceRecords yourself, e.g. from the CLI's
   * `prune`). Every process may prune; the stores make it safe. @defaultValue 3600000 (hourly)
   */
  pruneIntervalMs?: number | null;
}

/** ResolvedAuditOptions are AuditOptions validated, with defaults filled in. */
export interface ResolvedAuditOptions {
  retentionDays: number;
  pruneIntervalMs: number | null;
}

const DAY_MS = 24 * 3600 * 1000;

/** resolveAuditOptions validates the `audit` service option into `checker`. */
export function resolveAuditOptions(checker: OptionChecker, options: AuditOptions | undefined): ResolvedAuditOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    checker.problem('audit', 'expected an object');
    return { retentionDays: 90, pruneIntervalMs: 3_600_000 };
  }
  const retentionDays = checker.integer('audit.retentionDays', options?.retentionDays, 1, 36_500) ?? 90;
  const pruneIntervalMs =
    options?.pruneIntervalMs === null
      ? null
      : (checker.integer('audit.pruneIntervalMs', options?.pruneIntervalMs, 1000, 7 * DAY_MS) ?? 3_600_000);
  return { retentionDays, pruneIntervalMs };
}

/** ANONYMOUS is the principal of a call made without accepted credentials. */
const ANONYMOUS: AuditPrincipal = { id: 'anonymous', name: 'anonymous', role: null };

/** auditOutcome classifies an answer's status: 401, 403 and 429 refuse the caller, other statuses from 400 on are errors. */
export function auditOutcome(status: number): AuditOutcome {
  if (status === 401 || status === 403 || status === 429) return 'denied';
  return status >= 400 ? 'error' : 'success';
}

/** auditTargetOf is what a call acted on: what the route set, else its path parameters (joined by `/`), else null. */
function auditTargetOf(request: FastifyRequest): string | null {
  if (request.auditTarget !== null) return request.auditTarget;
  const params = Object.values((request.params ?? {}) as Record<string, unknown>).filter(
    (value): value is string => typeof value === 'string' && value !== '',
  );
  return params.length === 0 ? null : params.join('/');
}

/** auditEntryOf describes one answered call for the audit log. */
function auditEntryOf(request: FastifyRequest, reply: FastifyReply, access: RouteAccess, at: Date): AuditEntryInput {
  const principal = request.principal ?? null;
  return {
    at,
    principal: principal === null ? ANONYMOUS : { id: principal.id, name: principal.name, role: principal.role },
    action: access.action,
    target: auditTargetOf(request),
    outcome: auditOutcome(reply.statusCode),
    status: reply.statusCode,
    requestId: String(request.id),
    clientAddress: request.ip,
  };
}

/**
 * recordMutatingCalls writes an audit entry for every answered call of a route whose access
 * says it mutates, whatever answered it: the handler, an error, authentication (401, 403) or
 * a rate limit (429). Call it before the routes are registered.
 *
 * The entry is written in onSend, before the answer leaves, rather than in onResponse: a
 * caller who got its answer can find the entry at once (a 2xx implies the entry exists, unless
 * the write failed and was logged), and a process that dies after answering cannot lose it.
 * The price is one insert of latency on mutating calls only. A failed write is logged and
 * the answer still goes out: the call already happened, and refusing to answer it would not
 * undo it.
 */
export function recordMutatingCalls(app: FastifyInstance, client: Jobyard): void {
  app.decorateRequest('auditTarget', null);
  app.addHook('onSend', async (request, reply, payload) => {
    const access = request.routeOptions.config?.access;
    if (access?.mutates !== true) return payload;
    const entry = auditEntryOf(request, reply, access, client.clock.now());
    try {
      await client.store.auditAppend({ entry });
    } catch (error) {
      request.log.error({ err: error, audit: entry }, 'audit entry not recorded');
    }
    return payload;
  });
}

/** ServicePruneResult counts what pruneServiceRecords deleted. */
export interface ServicePruneResult {
  auditEntries: number;
  rateLimitKeys: number;
}

/**
 * pruneServiceRecords deletes the audit entries recorded more than `retentionDays` before
 * `now` and the rate limit keys whole again at `now` (which answer as unused ones). What the
 * CLI's `prune` and the service's periodic pruner run.
 */
export async function pruneServiceRecords(
  store: Store,
  { now, retentionDays }: { now: Date; retentionDays: number },
): Promise<ServicePruneResult> {
  const auditEntries = await store.auditPrune({ olderThan: new Date(now.getTime() - retentionDays * DAY_MS) });
  const rateLimitKeys = await store.rateLimitPrune({ now });
  return { auditEntries, rateLimitKeys };
}

/**
 * ServicePruner runs pruneServiceRecords every `pruneIntervalMs` (first at start) on the
 * client's store and clock; a failing run is reported as an `error` event and retried.
 */
export class ServicePruner {
  private readonly loop: PeriodicLoop;

  constructor(client: Jobyard, options: { retentionDays: number; intervalMs: number }) {
    this.loop = new PeriodicLoop(
      'service pruner',
      options.intervalMs,
      async () => {
        const pruned = await pruneServiceRecords(client.store, { now: client.clock.now(), retentionDays: options.retentionDays });
        if (pruned.auditEntries + pruned.rateLimitKeys > 0)
          client.logger.info(pruned, 'pruned audit entries and rate limit keys');
      },
      client.events,
      client.logger,
      client.clock,
    );
  }

  /** start begins pruning in the background. Idempotent. */
  start(): void {
    this.loop.start();
  }

  /** stop ends the loop after the run in progress. */
  stop(): Promise<void> {
    return this.loop.stop();
  }
}
