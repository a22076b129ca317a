import { freshPgStore } from '../helpers/postgres.js';
import { exerciseStore } from './index.js';

exerciseStore('postgres store', freshPgStore);
