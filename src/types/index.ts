export * from './clock.js';
export * from './job.js';
