import { tempSqliteStore } from '../helpers/sqlite.js';
import { exerciseStore } from './index.js';

exerciseStore('sqlite store', tempSqliteStore);
