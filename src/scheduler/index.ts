export * from './definition.js';
export * from './misfire.js';
export * from './scheduler.js';
export * from './trigger.js';
