import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JobyardConfig } from '../config/index.js';
import { isJobyardError } from '../errors/index.js';
import { UsageError } from './exit-codes.js';

/** Config files `jobyard` looks for in the working directory when no `--config` is given, in this order. */
export const DEFAULT_CONFIG_FILES = ['jobyard.config.ts', 'jobyard.config.mts', 'jobyard.config.js', 'jobyard.config.mjs'];

/**
 * loadConfig imports the config module at `path` (or the first default file in `cwd`) and
 * returns its default export, or `{}` when no path was given and no default file exists (the
 * admin commands need no tasks). A given path that does not exist is a usage error.
 */
export async function loadConfig(
  path: string | undefined,
  cwd = process.cwd(),
): Promise<{ config: JobyardConfig; file: string | null }> {
  const file = path === undefined ? DEFAULT_CONFIG_FILES.map((name) => resolve(cwd, name)).find(existsSync) : resolve(cwd, path);
  if (file === undefined) return { config: {}, file: null };
  if (!existsSync(file)) throw new UsageError(`Config file ${file} not found`);
  let module: { default?: unknown };
  try {
    module = (await importModule(file)) as { default?: unknown };
  } catch (error) {
    // Jobyard's own errors (a store the config opens is unreachable) keep their meaning.
    if (isJobyardError(error)) throw error;
    throw new UsageError(`Config file ${file} could not be loaded: ${(error as Error).message}`);
  }
  // A .ts file outside an ESM package loads as CommonJS: its default export comes wrapped.
  const exported = module.default as { __esModule?: boolean; default?: unknown } | undefined;
  const config = exported?.__esModule === true ? exported.default : exported;
  if (typeof config !== 'object' || config === null) {
    throw new UsageError(`Config file ${file} has no default export of defineConfig({ ... })`);
  }
  return { config: config as JobyardConfig, file };
}

async function importModule(file: string): Promise<unknown> {
  const url = pathToFileURL(file).href;
  if (!/\.[cm]?ts$/.test(file)) return import(url);
  // A TypeScript config needs a loader at run time: tsx (esbuild) is the one dependency that
  // loads it in place on Node 20, without a build step or a flag the user must pass to node.
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(url, import.meta.url);
}
