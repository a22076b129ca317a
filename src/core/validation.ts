import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ValidationError, type ValidationIssue } from '../errors/index.js';
import { type JsonValue, PRIORITY_NAMES, type PriorityName } from '../types/index.js';
import type { BackoffOption } from './backoff.js';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** NAME_PATTERN is the shape of queue, task and schedule names: 1-128 of letters, digits and _ . : - / */
export const NAME_PATTERN = /^[A-Za-z0-9_.:\-/]{1,128}$/;

/** Limits on user input, so a caller cannot store unbounded values by mistake. */
export const LIMITS = {
  priority: 1000,
  maxAttempts: 1000,
  keyLength: 512,
  tags: 50,
  tagLength: 200,
  timeoutMs: 2_147_483_647,
  delayMs: 100 * 365 * 24 * 3600 * 1000,
  parents: 100,
} as const;

/** assertJobId throws a ValidationError unless `id` has the shape of a job id (a UUID). */
export function assertJobId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !UUID_PATTERN.test(id)) {
    throw new ValidationError('Invalid job id', [{ path: 'id', message: `expected a UUID, got ${describe(id)}` }]);
  }
}

/** isName tells whether a queue or task name is acceptable: 1-128 of letters, digits and _ . : - / */
export function isName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}

/** validateWithSchema runs a Standard Schema and returns its output, or the issues. */
export async function validateWithSchema<Output>(
  schema: StandardSchemaV1<unknown, Output>,
  value: unknown,
  pathPrefix: string,
): Promise<{ value: Output } | { issues: ValidationIssue[] }> {
  const result = await schema['~standard'].validate(value);
  if (result.issues) {
    return {
      issues: result.issues.map((issue) => ({
        path: [pathPrefix, ...(issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment))]
          .filter(Boolean)
          .join('.'),
        message: issue.message,
      })),
    };
  }
  return { value: result.value };
}

/**
 * toJson returns the value as it will read back from the store (JSON round trip) and
 * reports what JSON cannot hold (functions, BigInt, cycles, non-finite numbers).
 */
export function toJson(value: unknown, path: string, issues: ValidationIssue[]): JsonValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
    return value;
  }
  try {
    const text = JSON.stringify(value, (_key, inner) => {
      if (typeof inner === 'number' && !Number.isFinite(inner)) throw new Error(`${inner} is not a JSON number`);
      if (typeof inner === 'function' || typeof inner === 'symbol') throw new Error(`a ${typeof inner} is not JSON`);
      return inner;
    });
    return text === undefined ? null : (JSON.parse(text) as JsonValue);
  } catch (error) {
    issues.push({ path, message: `not JSON-serializable: ${(error as Error).message}` });
    return null;
  }
}

/** OptionChecker collects option problems so one ValidationError lists all of them. */
export class OptionChecker {
  readonly issues: ValidationIssue[] = [];

  problem(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  integer(path: string, value: unknown, min: number, max: number): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.problem(path, `expected an integer from ${min} to ${max}, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  priority(path: string, value: unknown): number | undefined {
    if (typeof value === 'string') {
      if (value in PRIORITY_NAMES) return PRIORITY_NAMES[value as PriorityName];
      this.problem(path, `expected a number or one of ${Object.keys(PRIORITY_NAMES).join(', ')}, got ${describe(value)}`);
      return undefined;
    }
    return this.integer(path, value, -LIMITS.priority, LIMITS.priority);
  }

  name(path: string, value: unknown): string | undefined {
    if (value === undefined) return undefined;
    if (!isName(value)) {
      this.problem(path, `expected 1-128 characters of letters, digits and _ . : - /, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  /** parents reads a list of parent job ids (UUIDs, no repeats, at most LIMITS.parents), lower-cased. */
  parents(path: string, value: unknown): string[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.length > LIMITS.parents) {
      this.problem(path, `expected an array of at most ${LIMITS.parents} job ids, got ${describe(value)}`);
      return undefined;
    }
    const ids: string[] = [];
    for (const [index, id] of value.entries()) {
      if (typeof id !== 'string' || !UUID_PATTERN.test(id))
        this.problem(`${path}.${index}`, `expected a job id (UUID), got ${describe(id)}`);
      else if (ids.includes(id.toLowerCase())) this.problem(`${path}.${index}`, `job ${id} is listed twice`);
      else ids.push(id.toLowerCase());
    }
    return ids;
  }

  key(path: string, value: unknown): string | null | undefined {
    if (value === undefined || value === null) return value;
    if (typeof value !== 'string' || value.length === 0 || value.length > LIMITS.keyLength) {
      this.problem(path, `expected a string of 1-${LIMITS.keyLength} characters, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  date(path: string, value: unknown): Date | undefined {
    if (value === undefined) return undefined;
    const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime())) {
      this.problem(path, `expected a Date or ISO 8601 string, got ${describe(value)}`);
      return undefined;
    }
    return date;
  }

  tags(path: string, value: unknown): string[] | undefined {
    if (value === undefined) return undefined;
    if (
      !Array.isArray(value) ||
      value.length > LIMITS.tags ||
      !value.every((tag) => typeof tag === 'string' && tag.length > 0 && tag.length <= LIMITS.tagLength)
    ) {
      this.problem(path, `expected at most ${LIMITS.tags} non-empty strings of at most ${LIMITS.tagLength} characters`);
      return undefined;
    }
    return [...new Set(value as string[])];
  }

  metadata(path: string, value: unknown): Record<string, JsonValue> | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.problem(path, `expected a plain object, got ${describe(value)}`);
      return undefined;
    }
    return toJson(value, path, this.issues) as Record<string, JsonValue>;
  }

  backoff(path: string, value: BackoffOption | undefined): void {
    if (value === undefined || typeof value === 'function') return;
    if (value.type === 'fixed') this.integer(`${path}.delayMs`, value.delayMs, 0, LIMITS.delayMs);
    else if (value.type === 'exponential') {
      this.integer(`${path}.baseMs`, value.baseMs, 0, LIMITS.delayMs);
      this.integer(`${path}.maxMs`, value.maxMs, 0, LIMITS.delayMs);
    } else this.problem(`${path}.type`, `expected 'exponential' or 'fixed'`);
    const jitter = value.jitter;
    if (jitter !== undefined && (typeof jitter !== 'number' || jitter < 0 || jitter > 1)) {
      this.problem(`${path}.jitter`, `expected a number from 0 to 1, got ${describe(jitter)}`);
    }
  }

  /** throwIfAny throws one ValidationError listing every problem found. */
  throwIfAny(message: string): void {
    if (this.issues.length > 0) throw new ValidationError(message, this.issues);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  if (value === null || value === undefined || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
