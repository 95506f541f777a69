import { createLogger, runService } from '@orderflow/common';
import { startProducts } from './app.ts';
import { loadConfig } from './config.ts';

const config = loadConfig(process.env);
const log = createLogger('products', config.LOG_LEVEL);
runService(log, () => startProducts(config, { log }));
