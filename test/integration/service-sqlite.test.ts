import { tempSqliteStore } from '../helpers/sqlite.js';
import { exerciseService } from './service/index.js';

exerciseService('sqlite', () => tempSqliteStore());
