import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  acceptEmptyJsonBodies,
  answerWithProblems,
  type JobyardServiceOptions,
  jobyardService,
  resolveServiceOptions,
} from './plugin.js';
import { problemOf, sendProblem } from './problem.js';

/** ServerOptions configure createServer: the service's options and the server's logger. */
export interface ServerOptions extends JobyardServiceOptions {
  /** Logger of the server and its requests. @defaultValue the client's logger */
  logger?: FastifyBaseLogger;
}

/** Longest path parameter: schedule ids reach 128 characters, past Fastify's default of 100. */
const MAX_PARAM_LENGTH = 256;

/**
 * createServer builds a Fastify app that serves only the jobyard API: the plugin at the
 * root, and problem JSON for unknown routes and for URLs the router refuses (malformed
 * percent-encoding, overlong parameters). It does not listen: call `listen({ port, host })`,
 * and `close()` on shutdown (it leaves the client and scheduler running).
 */
export function createServer(options: ServerOptions): FastifyInstance {
  const { bodyLimit } = resolveServiceOptions(options);
  const app = Fastify({
    loggerInstance: options.logger ?? options.client.logger,
    bodyLimit,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: (error, _request, reply) => sendProblem(reply, problemOf(error)),
  }) as unknown as FastifyInstance;
  answerWithProblems(app, { notFound: true });
  acceptEmptyJsonBodies(app);
  app.register(jobyardService, options);
  return app;
}
