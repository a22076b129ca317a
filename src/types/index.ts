export * from './api-token.js';
export * from './audit.js';
export * from './clock.js';
export * from './event-record.js';
export * from './job.js';
export * from './schedule.js';
