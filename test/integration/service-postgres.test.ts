import { freshPgStore } from '../helpers/postgres.js';
import { exerciseService } from './service/index.js';

exerciseService('postgres', freshPgStore);
