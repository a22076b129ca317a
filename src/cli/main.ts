#!/usr/bin/env node
/** The `jobyard` executable (package.json `bin`): runs one command and exits with its code (docs/cli.md). */
import { run } from './program.js';

// Exit at once: a closed store or server may leave handles (a file watch, a socket) that
// would otherwise keep a finished command alive. stdout and stderr are written synchronously.
process.exit(await run(process.argv.slice(2)));
