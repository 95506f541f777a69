import type { Viewer } from '@orderflow/common/server';
import type { ShipmentService } from './service/shipment-service.ts';

export interface ShipmentsContext {
  viewer: Viewer | null;
  shipments: ShipmentService;
  loaders: ReturnType<ShipmentService['createLoaders']>;
}
