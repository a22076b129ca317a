export * from './api-token.js';
export * from './clock.js';
export * from './job.js';
export * from './schedule.js';
