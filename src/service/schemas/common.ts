import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../../errors/index.js';

/** DateTime is a UTC time as the API writes it: ISO 8601 with milliseconds and `Z`. */
export const DateTime = z.iso.datetime();

/** MAX_TIME is the first instant the API cannot write as DateTime (year 10000), in ms since the epoch. */
export const MAX_TIME = Date.UTC(10_000, 0, 1);

/**
 * DateTimeInput is a time as the API reads it: ISO 8601 with `Z` or an offset, from 1970 to
 * the end of year 9999 UTC (PostgreSQL has no year 0, and later years need six digits).
 */
export const DateTimeInput = z.iso.datetime({ offset: true }).refine((text) => {
  const time = Date.parse(text);
  return time >= 0 && time < MAX_TIME;
}, 'expected a time from 1970 to 9999');

/** PROBLEM_CONTENT_TYPE is the media type of every error answer (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json' as const;

/** ProblemSchema is an error answer: RFC 9457 problem details, plus jobyard's stable code and the field errors. */
export const ProblemSchema = z
  .object({
    type: z.string().describe('URI naming the kind of problem: `urn:jobyard:problem:` and the code in kebab case'),
    title: z.string().describe('Short summary of the kind of problem; the same for every occurrence'),
    status: z.number().int().describe('The HTTP status code'),
    detail: z.string().describe('What went wrong with this request'),
    code: z.string().describe('Stable jobyard error code, e.g. `JOBYARD_JOB_NOT_FOUND` (docs/errors.md)'),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe('Each rejected field: its path (e.g. `payload.to`, `limit`) and why'),
  })
  .describe('RFC 9457 problem details');

/** Problem is the body of every error answer. */
export type Problem = z.infer<typeof ProblemSchema>;

/** ProblemStatus is an error status that a route documents with problemResponses. */
export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

/** ProblemResponse is the OpenAPI response of one error status: problem JSON. */
export interface ProblemResponse {
  description: string;
  content: { [PROBLEM_CONTENT_TYPE]: { schema: typeof ProblemSchema } };
}

/**
 * problemResponses documents the error answers a route may give, each as problem JSON; the
 * descriptions come from the error registry.
 */
export function problemResponses<const Statuses extends ProblemStatus[]>(
  ...statuses: Statuses
): Record<Statuses[number], ProblemResponse> {
  const responses = {} as Record<Statuses[number], ProblemResponse>;
  for (const status of statuses as Statuses[number][]) {
    const titles = (Object.keys(ERROR_CODES) as ErrorCode[])
      .filter((code) => ERROR_CODES[code].status === status)
      .map((code) => ERROR_CODES[code].message);
    responses[status] = { description: titles.join('; '), content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } };
  }
  return responses;
}
