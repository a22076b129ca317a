export * from './backoff.js';
export * from './client.js';
export * from './events.js';
export * from './job-context.js';
export type { LoopLiveness } from './periodic-loop.js';
export * from './rescuer.js';
export * from './task.js';
export { TRACE_CONTEXT_METADATA_KEY, type TraceContext } from './tracing.js';
export * from './worker.js';
