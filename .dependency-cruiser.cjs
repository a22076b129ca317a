/**
 * The import arrows of ../shared/STYLE.md: each folder may import only the ones below it.
 * `npm run lint` fails when an arrow points the wrong way.
 */
const layer = (from, allowed) => ({
  name: `${from}-imports-only-${allowed.join('-') || 'nothing'}`,
  severity: 'error',
  from: { path: `^src/${from}/` },
  to: {
    path: '^src/',
    pathNot: [`^src/${from}/`, ...allowed.map((folder) => `^src/${folder}/`)],
  },
});

module.exports = {
  forbidden: [
    layer('types', []),
    layer('errors', ['types']),
    layer('store', ['types', 'errors']),
    layer('stores', ['store', 'types', 'errors']),
    layer('core', ['store', 'types', 'errors']),
    layer('scheduler', ['core', 'store', 'types', 'errors']),
    layer('service', ['scheduler', 'core', 'store', 'types', 'errors']),
    // The config module only names the stores' option types; the CLI opens them.
    layer('config', ['service', 'stores', 'scheduler', 'core', 'store', 'types', 'errors']),
    layer('cli', ['config', 'service', 'stores', 'scheduler', 'core', 'store', 'types', 'errors']),
    {
      name: 'engine-knows-no-database-driver',
      comment: 'Only stores talk to databases; the engine and the HTTP service see the Store port.',
      severity: 'error',
      from: { path: '^src/(core|types|errors|store|scheduler|service|config)/' },
      to: { path: 'node_modules/(pg|better-sqlite3)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { pathNot: ['^src/core/(client|worker)\\.ts$'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
