import type { Viewer } from '@orderflow/common/server';
import type { OrderService } from './service/order-service.ts';

export interface OrdersContext {
  viewer: Viewer | null;
  orders: OrderService;
  loaders: ReturnType<OrderService['createLoaders']>;
}
