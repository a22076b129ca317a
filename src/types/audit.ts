/** AuditOutcome classifies an audited call: `success` (2xx/3xx), `denied` (401, 403, 429) or `error` (any other 4xx/5xx). */
export type AuditOutcome = 'success' | 'denied' | 'error';

/** AUDIT_OUTCOMES lists every AuditOutcome. */
export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['success', 'denied', 'error'];

/** AuditPrincipal is who made an audited call; `role` is null for a caller without accepted credentials (id `anonymous`). */
export interface AuditPrincipal {
  id: string;
  name: string;
  role: string | null;
}

/** AuditEntryInput is one audited call as the service records it. */
export interface AuditEntryInput {
  /** When the call was answered (the client's clock). */
  at: Date;
  principal: AuditPrincipal;
  /** The route's action name, e.g. `jobs.cancel`. */
  action: string;
  /** What the call acted on (a job id, schedule id, queue or token id), or null. */
  target: string | null;
  outcome: AuditOutcome;
  /** The HTTP status of the answer. */
  status: number;
  requestId: string;
  clientAddress: string;
}

/** AuditEntry is a recorded call; entries are never updated, only pruned by age. */
export interface AuditEntry extends AuditEntryInput {
  /** Assigned by the store in recording order: a later entry has a greater id (compared as numbers). */
  id: string;
}
