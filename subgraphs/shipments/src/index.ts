import { createLogger, runService } from '@orderflow/common';
import { startShipments } from './app.ts';
import { loadConfig } from './config.ts';

const config = loadConfig(process.env);
const log = createLogger('shipments', config.LOG_LEVEL);
runService(log, () => startShipments(config, { log }));
