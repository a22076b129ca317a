import { freshPgStore } from '../helpers/postgres.js';
import { exerciseScheduler } from './scheduler/index.js';

exerciseScheduler('postgres', freshPgStore);
