import { gql, type TypedDocumentNode } from '@apollo/client';
import type {
  CancelOrderResult,
  OrderDetails,
  OrderStatus,
  OrderStatusChangeEvent,
  OrderSummary,
  PageInfo,
  PlaceOrderInput,
  PlaceOrderResult,
} from './types.ts';

/** Everything the order page shows; subscription payloads select it too, so each event refreshes the cached order. */
export const ORDER_DETAILS = gql`
  fragment OrderDetails on Order {
    id
    customerId
    status
    totalAmount {
      amount
      currencyCode
    }
    createdAt
    updatedAt
    items {
      productId
      quantity
      unitPrice {
        amount
        currencyCode
      }
      lineTotal {
        amount
        currencyCode
      }
      product {
        id
        name
        sku
      }
    }
    shippingAddress {
      name
      line1
      line2
      city
      postalCode
      country
    }
    statusHistory {
      previousStatus
      status
      reason
      occurredAt
    }
    shipment {
      id
      orderId
      carrier
      trackingNumber
      status
      createdAt
      updatedAt
      deliveredAt
      events {
        id
        status
        description
        location
        occurredAt
      }
    }
  }
`;

const ORDER_SUMMARY = gql`
  fragment OrderSummary on Order {
    id
    status
    totalAmount {
      amount
      currencyCode
    }
    createdAt
    updatedAt
    items {
      productId
      quantity
      product {
        id
        name
      }
    }
  }
`;

export const PLACE_ORDER: TypedDocumentNode<{ placeOrder: PlaceOrderResult }, { input: PlaceOrderInput }> = gql`
  mutation PlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      __typename
      ... on OrderPlaced {
        order {
          ...OrderSummary
        }
      }
      ... on ProductsUnavailable {
        message
        unavailableItems {
          productId
          requested
          available
          isAvailable
        }
      }
      ... on InvalidOrder {
        message
        field
      }
    }
  }
  ${ORDER_SUMMARY}
`;

export const MY_ORDERS: TypedDocumentNode<
  { myOrders: { edges: { cursor: string; node: OrderSummary }[]; pageInfo: PageInfo; totalCount: number } },
  { first: number; after?: string | null; status?: OrderStatus | null }
> = gql`
  query MyOrders($first: Int!, $after: String, $status: OrderStatus) {
    myOrders(first: $first, after: $after, status: $status) {
      edges {
        cursor
        node {
          ...OrderSummary
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
      totalCount
    }
  }
  ${ORDER_SUMMARY}
`;

export const ORDER: TypedDocumentNode<{ order: OrderDetails | null }, { id: string }> = gql`
  query Order($id: ID!) {
    order(id: $id) {
      ...OrderDetails
    }
  }
  ${ORDER_DETAILS}
`;

/** `after: "0"` replays the order's history first, then follows it live. */
export const ORDER_STATUS_CHANGED: TypedDocumentNode<
  { orderStatusChanged: OrderStatusChangeEvent },
  { orderId: string; after?: string | null }
> = gql`
  subscription OrderStatusChanged($orderId: ID!, $after: String) {
    orderStatusChanged(orderId: $orderId, after: $after) {
      orderId
      previousStatus
      status
      reason
      occurredAt
      order {
        ...OrderDetails
      }
    }
  }
  ${ORDER_DETAILS}
`;

export const MY_ORDER_UPDATES: TypedDocumentNode<
  {
    myOrderUpdates: {
      orderId: string;
      status: OrderStatus;
      occurredAt: string;
      order: { id: string; status: OrderStatus; updatedAt: string };
    };
  },
  { after?: string | null }
> = gql`
  subscription MyOrderUpdates($after: String) {
    myOrderUpdates(after: $after) {
      orderId
      status
      occurredAt
      order {
        id
        status
        updatedAt
      }
    }
  }
`;

export const CANCEL_ORDER: TypedDocumentNode<{ cancelOrder: CancelOrderResult }, { orderId: string; reason?: string }> =
  gql`
    mutation CancelOrder($orderId: ID!, $reason: String) {
      cancelOrder(orderId: $orderId, reason: $reason) {
        __typename
        ... on OrderCancelled {
          order {
            id
            status
            updatedAt
          }
        }
        ... on CannotCancel {
          message
          status
        }
      }
    }
  `;
