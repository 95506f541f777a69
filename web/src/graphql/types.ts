// Hand-written shapes of the operations in this folder, until codegen
// generates them from the contract (shared/contract/api.graphql).

export type OrderStatus =
  'PENDING_PAYMENT' | 'PENDING_SHIPMENT' | 'SHIPPED' | 'IN_TRANSIT' | 'DELIVERED' | 'CANCELLED' | 'PAYMENT_FAILED';
export type ShipmentStatus = 'PROCESSING' | 'SHIPPED' | 'IN_TRANSIT' | 'DELIVERED' | 'CANCELLED';

export interface Money {
  amount: string;
  currencyCode: string;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
  scope: string;
}

export interface CatalogProduct {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  price: Money;
  availableQuantity: number;
  lowStockThreshold: number;
}

export interface InventoryProduct extends CatalogProduct {
  reservedQuantity: number;
  isActive: boolean;
}

export interface ItemAvailability {
  productId: string;
  requested: number;
  available: number;
  isAvailable: boolean;
}

export interface Address {
  name: string;
  line1: string;
  line2?: string | null;
  city: string;
  postalCode: string;
  country: string;
}

export interface DeliveryEvent {
  id: string;
  status: ShipmentStatus;
  description: string | null;
  location: string | null;
  occurredAt: string;
}

export interface ShipmentDetails {
  id: string;
  orderId: string;
  carrier: string;
  trackingNumber: string;
  status: ShipmentStatus;
  events: DeliveryEvent[];
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
}

export interface StatusChange {
  previousStatus: OrderStatus | null;
  status: OrderStatus;
  reason: string | null;
  occurredAt: string;
}

export interface OrderSummary {
  id: string;
  status: OrderStatus;
  totalAmount: Money;
  createdAt: string;
  updatedAt: string;
  items: { productId: string; quantity: number; product: { id: string; name: string } }[];
}

export interface OrderDetails extends OrderSummary {
  customerId: string;
  items: {
    productId: string;
    quantity: number;
    unitPrice: Money;
    lineTotal: Money;
    product: { id: string; name: string; sku: string };
  }[];
  shippingAddress: Address;
  statusHistory: StatusChange[];
  shipment: ShipmentDetails | null;
}

export interface OrderStatusChangeEvent extends StatusChange {
  orderId: string;
  order: OrderDetails;
}

export interface LowStockAlert {
  product: { id: string; name: string; sku: string; availableQuantity: number; lowStockThreshold: number };
  availableQuantity: number;
  threshold: number;
  occurredAt: string;
}

export type PlaceOrderResult =
  | { __typename: 'OrderPlaced'; order: OrderSummary }
  | { __typename: 'ProductsUnavailable'; message: string; unavailableItems: ItemAvailability[] }
  | { __typename: 'InvalidOrder'; message: string; field: string | null };

export type CancelOrderResult =
  | { __typename: 'OrderCancelled'; order: { id: string; status: OrderStatus; updatedAt: string } }
  | { __typename: 'CannotCancel'; message: string; status: OrderStatus };

export interface PlaceOrderInput {
  idempotencyKey: string;
  items: { productId: string; quantity: number }[];
  shippingAddress: Address;
  paymentToken: string;
}
