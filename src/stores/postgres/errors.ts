import { StoreUnavailableError } from '../../errors/index.js';

/**
 * SQLSTATEs after which the same call may succeed if tried again: the server is shutting
 * down or starting (57P01 admin, 57P02 crash, 57P03 cannot connect now), too many
 * connections (53300), a serialization failure (40001) or a deadlock victim (40P01).
 * Class 08 (connection exceptions) is matched by prefix.
 */
const RETRYABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);

/** Socket-level failures Node reports when the server is unreachable or the link drops. */
const RETRYABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Messages node-postgres uses, without a code, when a connection dies or cannot be made. */
const CONNECTION_LOST_MESSAGE =
  /Connection terminated|Client has encountered a connection error|is not queryable|timeout exceeded when trying to connect/i;

/**
 * toStoreError classifies an error thrown by node-postgres: errors that may go away when
 * retried (connection refused, reset or terminated, server shutdown, class 08,
 * serialization failure, deadlock) become a StoreUnavailableError carrying the original as
 * `cause`; every other error is returned unchanged for the caller to throw.
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || !isRetryable(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`Store unavailable: ${message}`, { cause: error });
}

function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (RETRYABLE_SQLSTATES.has(code) || code.startsWith('08') || RETRYABLE_SOCKET_CODES.has(code)) return true;
  }
  // Node reports a refused connection to every resolved address as one AggregateError.
  if (error instanceof AggregateError && error.errors.some(isRetryable)) return true;
  return CONNECTION_LOST_MESSAGE.test(error.message);
}
