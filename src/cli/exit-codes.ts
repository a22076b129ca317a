import { ERROR_CODES, isJobyardError } from '../errors/index.js';

/** EXIT_CODES are what a `jobyard` command exits with (docs/cli.md lists the same table). */
export const EXIT_CODES = {
  /** The command did what it was asked. */
  ok: 0,
  /** It failed at run time: the database is unreachable, or an unexpected error. */
  failure: 1,
  /** Bad usage: an unknown command or flag, a malformed argument, input the library rejects, a bad config file. */
  usage: 2,
  /** What it names does not exist: a job, a schedule, a task. */
  notFound: 3,
  /** The state forbids it: retrying a running job, deleting a live one, creating a taken schedule id. */
  conflict: 4,
} as const;

/** UsageError says a command was called wrongly; it exits with EXIT_CODES.usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** exitCodeOf maps an error to an exit code: usage errors and jobyard errors by their HTTP status, others to failure. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT_CODES.usage;
  if (!isJobyardError(error)) return EXIT_CODES.failure;
  const status: number = ERROR_CODES[error.code].status;
  if (status === 400) return EXIT_CODES.usage;
  if (status === 404 || error.code === 'JOBYARD_UNKNOWN_TASK') return EXIT_CODES.notFound;
  if (status === 409) return EXIT_CODES.conflict;
  return EXIT_CODES.failure;
}
