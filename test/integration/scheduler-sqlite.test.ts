import { tempSqliteStore } from '../helpers/sqlite.js';
import { exerciseScheduler } from './scheduler/index.js';

// The simulated days commit 1,440 fires each; syncing the WAL at every commit would make the
// test wait on the disk, not on the scheduler.
exerciseScheduler('sqlite', () => tempSqliteStore({ synchronous: 'NORMAL' }));
