import { createLogger, runService } from '@orderflow/common';
import { startOrders } from './app.ts';
import { loadConfig } from './config.ts';

const config = loadConfig(process.env);
const log = createLogger('orders', config.LOG_LEVEL);
runService(log, () => startOrders(config, { log }));
