export * from './migrations.js';
export * from './store.js';
