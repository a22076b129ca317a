import type { FastifyError, FastifyReply } from 'fastify';
import { ERROR_CODES, type ErrorCode, isJobyardError, type ValidationIssue } from '../errors/index.js';
import { PROBLEM_CONTENT_TYPE, type Problem } from './schemas/common.js';

/** problemType is the `type` URI of a problem: `urn:jobyard:problem:` and the code in kebab case. */
export function problemType(code: ErrorCode): string {
  return `urn:jobyard:problem:${code
    .replace(/^JOBYARD_/, '')
    .toLowerCase()
    .replaceAll('_', '-')}`;
}

/** problem builds the problem details of one registered error code. */
export function problem(code: ErrorCode, detail: string, options: { status?: number; errors?: ValidationIssue[] } = {}): Problem {
  const { status, message } = ERROR_CODES[code];
  return {
    type: problemType(code),
    title: message,
    status: options.status ?? status,
    detail,
    code,
    ...(options.errors && options.errors.length > 0 ? { errors: options.errors } : {}),
  };
}

/**
 * problemOf maps anything a route threw to problem details: jobyard's errors by their
 * registry entry, Fastify's request errors (schema validation, malformed or oversized body,
 * unsupported media type) to 4xx, and anything else to a 500 that tells nothing of the cause.
 */
export function problemOf(error: unknown): Problem {
  if (isJobyardError(error)) {
    const issues = (error as { issues?: ValidationIssue[] }).issues;
    return problem(error.code, error.message, { errors: issues });
  }
  const fastifyError = error as Partial<FastifyError> | null;
  if (Array.isArray(fastifyError?.validation)) {
    const errors = fastifyError.validation.map((issue) => ({
      path: issue.instancePath.split('/').filter(Boolean).join('.'),
      message: issue.message ?? 'invalid',
    }));
    const where = fastifyError.validationContext ?? 'request';
    const detail = `Invalid ${where}: ${errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ')}`;
    return problem('JOBYARD_VALIDATION', detail, { errors });
  }
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code: ErrorCode =
      status === 413 ? 'JOBYARD_PAYLOAD_TOO_LARGE' : status === 415 ? 'JOBYARD_UNSUPPORTED_MEDIA_TYPE' : 'JOBYARD_BAD_REQUEST';
    return problem(code, fastifyError?.message ?? ERROR_CODES[code].message, { status });
  }
  return problem('JOBYARD_INTERNAL', 'The server failed to handle the request; the error is in its log.');
}

/** sendProblem answers with problem JSON (already serialized, so no response schema applies to it). */
export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}
