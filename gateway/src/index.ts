import { createLogger, runService } from '@orderflow/common';
import { loadConfig } from './config.ts';
import { startGateway } from './server.ts';

const config = loadConfig(process.env);
const log = createLogger('gateway', config.LOG_LEVEL);
runService(log, () => startGateway(config, { log }));
