/**
 * Loaded with `--import` before the harness: jobyard's SQLite store imports `better-sqlite3`,
 * which would resolve to the root install, compiled for the Node 20 ABI the project runs on.
 * Under the bench's Node 22 that addon cannot load, so the specifier is resolved from
 * bench/peers instead, where the same version is compiled for Node 22. Nothing else changes.
 */
import { registerHooks } from 'node:module';

const resolveFromHere = new URL('./node22-hooks.js', import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'better-sqlite3') return nextResolve(specifier, { ...context, parentURL: resolveFromHere });
    return nextResolve(specifier, context);
  },
});
