import { ValidationError, type ValidationIssue } from '../errors/index.js';

/** Deepest nesting of arrays and objects a request may send. */
export const MAX_JSON_DEPTH = 64;

// In unicode mode a surrogate pair reads as one code point, so this matches lone surrogates only.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * storableTextProblem says why a string cannot be stored by every store, or null:
 * PostgreSQL text and jsonb refuse NUL characters and unpaired surrogates.
 */
function storableTextProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(text)) return 'contains an unpaired UTF-16 surrogate';
  return null;
}

/**
 * findUnstorable walks a parsed request value (body, query, params) without recursion and
 * returns the first problem: a string or key that a store cannot keep, or nesting deeper
 * than MAX_JSON_DEPTH. Both stores must answer alike, so the service refuses such input up
 * front with a 400 rather than letting PostgreSQL fail the write with a 500.
 */
export function findUnstorable(value: unknown, root: string): ValidationIssue | null {
  const pending: { value: unknown; path: string; depth: number }[] = [{ value, path: root, depth: 0 }];
  while (pending.length > 0) {
    const { value: current, path, depth } = pending.pop()!;
    if (typeof current === 'string') {
      const problem = storableTextProblem(current);
      if (problem) return { path, message: problem };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= MAX_JSON_DEPTH) return { path, message: `nested deeper than ${MAX_JSON_DEPTH} levels` };
    for (const [key, inner] of Object.entries(current)) {
      const problem = storableTextProblem(key);
      if (problem) return { path, message: `a key ${problem}` };
      pending.push({ value: inner, path: path ? `${path}.${key}` : key, depth: depth + 1 });
    }
  }
  return null;
}

/** assertStorable throws a ValidationError when findUnstorable finds a problem. */
export function assertStorable(value: unknown, root: string): void {
  const issue = findUnstorable(value, root);
  if (issue) throw new ValidationError('Invalid request', [issue]);
}
