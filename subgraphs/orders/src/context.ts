import type { Viewer } from '@orderflow/common/server';
import type { OperatorConsole } from './service/operator-console.ts';
import type { OrderService } from './service/order-service.ts';

export interface OrdersContext {
  viewer: Viewer | null;
  orders: OrderService;
  loaders: ReturnType<OrderService['createLoaders']>;
  /** Staff search, timelines, business figures and operator actions. */
  operations: OperatorConsole;
}
