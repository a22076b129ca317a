/**
 * The error registry: every error jobyard throws has a stable `code`, an HTTP status the
 * service answers with, and a default message. docs/errors.md lists the same table.
 */
export const ERROR_CODES = {
  JOBYARD_VALIDATION: { status: 400, message: 'Invalid input' },
  JOBYARD_UNKNOWN_TASK: { status: 422, message: 'Unknown task' },
  JOBYARD_JOB_NOT_FOUND: { status: 404, message: 'Job not found' },
  JOBYARD_SCHEDULE_NOT_FOUND: { status: 404, message: 'Schedule not found' },
  JOBYARD_SCHEDULE_EXISTS: { status: 409, message: 'Schedule already exists' },
  JOBYARD_INVALID_STATE: { status: 409, message: 'Invalid job state transition' },
  JOBYARD_STORE_UNAVAILABLE: { status: 503, message: 'Store unavailable' },
  JOBYARD_SCHEMA_TOO_NEW: { status: 503, message: 'Database schema is newer than this jobyard' },
  JOBYARD_TIMEOUT: { status: 500, message: 'Job attempt timed out' },
  JOBYARD_CANCELLED: { status: 500, message: 'Job cancelled' },
  JOBYARD_UNRECOVERABLE: { status: 500, message: 'Job failed without retry' },
  JOBYARD_SNOOZED: { status: 500, message: 'Job snoozed' },
  JOBYARD_CLOSED: { status: 503, message: 'Client is closed' },
  JOBYARD_IDEMPOTENCY_KEY_REUSED: { status: 422, message: 'Idempotency-Key reused for another request' },
  JOBYARD_BAD_REQUEST: { status: 400, message: 'Malformed request' },
  JOBYARD_ROUTE_NOT_FOUND: { status: 404, message: 'Route not found' },
  JOBYARD_PAYLOAD_TOO_LARGE: { status: 413, message: 'Request body too large' },
  JOBYARD_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported media type' },
  JOBYARD_RATE_LIMITED: { status: 429, message: 'Rate limit exceeded' },
  JOBYARD_INTERNAL: { status: 500, message: 'Internal error' },
  JOBYARD_UNAUTHENTICATED: { status: 401, message: 'Authentication required' },
  JOBYARD_FORBIDDEN: { status: 403, message: 'Role too small' },
  JOBYARD_AUTH_UNAVAILABLE: { status: 503, message: 'Token verification unavailable' },
  JOBYARD_TOKEN_NOT_FOUND: { status: 404, message: 'API token not found' },
  JOBYARD_TOKEN_NAME_TAKEN: { status: 409, message: 'API token name taken' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** JobyardError is the base of every error jobyard throws on purpose; `code` is stable. */
export class JobyardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERROR_CODES[code].message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = ERROR_CODES[code].status;
  }
}

/** ValidationIssue is one problem with an input, with the path of the offending field. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** ValidationError says an input (payload, option, id) was rejected; nothing was written. */
export class ValidationError extends JobyardError {
  readonly issues: ValidationIssue[];
  constructor(message: string, issues: ValidationIssue[] = []) {
    const detail = issues.length ? `: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}` : '';
    super('JOBYARD_VALIDATION', `${message}${detail}`);
    this.issues = issues;
  }
}

/** UnknownTaskError says no task of that name is defined on this client. */
export class UnknownTaskError extends JobyardError {
  constructor(task: string) {
    super('JOBYARD_UNKNOWN_TASK', `Unknown task "${task}"`);
  }
}

/** JobNotFoundError says no job has that id. */
export class JobNotFoundError extends JobyardError {
  constructor(id: string) {
    super('JOBYARD_JOB_NOT_FOUND', `Job ${id} not found`);
  }
}

/** ScheduleNotFoundError says no schedule has that id. */
export class ScheduleNotFoundError extends JobyardError {
  constructor(id: string) {
    super('JOBYARD_SCHEDULE_NOT_FOUND', `Schedule ${JSON.stringify(id)} not found`);
  }
}

/** ScheduleExistsError says a schedule to create has an id another schedule already has. */
export class ScheduleExistsError extends JobyardError {
  constructor(id: string) {
    super('JOBYARD_SCHEDULE_EXISTS', `Schedule ${JSON.stringify(id)} already exists`);
  }
}

/** InvalidStateError says the job's status does not allow the operation (e.g. retrying a completed job). */
export class InvalidStateError extends JobyardError {
  readonly currentStatus: string;
  constructor(message: string, currentStatus: string) {
    super('JOBYARD_INVALID_STATE', message);
    this.currentStatus = currentStatus;
  }
}

/** AuthUnavailableError says a JWT could not be checked because its key set (JWKS) could not be fetched; try again later. */
export class AuthUnavailableError extends JobyardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('JOBYARD_AUTH_UNAVAILABLE', message, options);
  }
}

/** TokenNotFoundError says no API token has that id (nor, where names are accepted, that live name). */
export class TokenNotFoundError extends JobyardError {
  constructor(idOrName: string) {
    super('JOBYARD_TOKEN_NOT_FOUND', `API token ${JSON.stringify(idOrName)} not found`);
  }
}

/** TokenNameTakenError says a live (unrevoked) API token already has that name; nothing was written. */
export class TokenNameTakenError extends JobyardError {
  constructor(name: string) {
    super(
      'JOBYARD_TOKEN_NAME_TAKEN',
      `A live API token is already named ${JSON.stringify(name)}: revoke it or pick another name`,
    );
  }
}

/**
 * IdempotencyKeyReusedError says an Idempotency-Key (the job's dedup key) already belongs to
 * a job of another task or payload, so the request is not a replay of the one that made it.
 */
export class IdempotencyKeyReusedError extends JobyardError {
  readonly jobId: string;
  constructor(key: string, jobId: string) {
    super(
      'JOBYARD_IDEMPOTENCY_KEY_REUSED',
      `Idempotency-Key ${JSON.stringify(key)} belongs to job ${jobId} of another task or payload`,
    );
    this.jobId = jobId;
  }
}

/** StoreUnavailableError says the database could not be reached; the call may succeed later. */
export class StoreUnavailableError extends JobyardError {
  constructor(message = 'Store unavailable', options?: { cause?: unknown }) {
    super('JOBYARD_STORE_UNAVAILABLE', message, options);
  }
}

/**
 * SchemaTooNewError says the database recorded a migration this jobyard does not know: a newer
 * jobyard (or another branch of it) migrated it, so this code refuses to run against it.
 */
export class SchemaTooNewError extends JobyardError {
  constructor(found: number, known: number) {
    super(
      'JOBYARD_SCHEMA_TOO_NEW',
      `The database recorded migration ${found}, which this jobyard (schema version ${known}) does not know: a newer jobyard migrated it`,
    );
  }
}

/** ClientClosedError says the client or worker was stopped before the call. */
export class ClientClosedError extends JobyardError {
  constructor() {
    super('JOBYARD_CLOSED');
  }
}

/** TimeoutError ends an attempt that ran past its task's `timeoutMs`; the attempt counts as failed. */
export class TimeoutError extends JobyardError {
  constructor(timeoutMs: number) {
    super('JOBYARD_TIMEOUT', `Job attempt timed out after ${timeoutMs} ms`);
  }
}

/** CancelledError is the abort reason when a running job is cancelled; a handler may also throw it to cancel itself. */
export class CancelledError extends JobyardError {
  constructor(message = 'Job cancelled') {
    super('JOBYARD_CANCELLED', message);
  }
}

/** UnrecoverableError, thrown by a handler, fails the job at once without further retries. */
export class UnrecoverableError extends JobyardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('JOBYARD_UNRECOVERABLE', message, options);
  }
}

/**
 * SnoozeError, thrown by a handler, puts the job back to run after `delayMs` without
 * spending an attempt (an upstream 429, a resource not ready yet).
 */
export class SnoozeError extends JobyardError {
  readonly delayMs: number;
  constructor(delayMs: number, message = `Job snoozed for ${delayMs} ms`) {
    super('JOBYARD_SNOOZED', message);
    this.delayMs = delayMs;
  }
}

/**
 * RateLimitedError is a SnoozeError that says why: an upstream API answered 429. The job
 * runs again after `retryAfterMs` (take it from the upstream's Retry-After) without
 * spending an attempt.
 */
export class RateLimitedError extends SnoozeError {
  constructor(retryAfterMs: number, message = `Upstream rate limit: retry in ${retryAfterMs} ms`) {
    super(retryAfterMs, message);
  }
}

/** isJobyardError tells whether a value is one of jobyard's errors (across module copies too). */
export function isJobyardError(value: unknown): value is JobyardError {
  if (value instanceof JobyardError) return true;
  const code = value instanceof Error ? (value as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code in ERROR_CODES;
}
