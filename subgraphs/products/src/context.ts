import type { Viewer } from '@orderflow/common/server';
import type { CatalogService } from './service/catalog-service.ts';
import type { InventoryService } from './service/inventory-service.ts';
import type { createStockTimelineLoader } from './service/stock-timeline.ts';

export interface ProductsContext {
  viewer: Viewer | null;
  catalog: CatalogService;
  inventory: InventoryService;
  loaders: {
    product: ReturnType<CatalogService['createProductLoader']>;
    stockTimeline: ReturnType<typeof createStockTimelineLoader>;
  };
}
