import { createLogger, runService } from '@orderflow/common';
import { startAuth } from './app.ts';
import { loadConfig } from './config.ts';

const config = loadConfig(process.env);
const log = createLogger('auth', config.LOG_LEVEL);
runService(log, () => startAuth(config, { log }));
