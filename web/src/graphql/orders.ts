import { graphql } from '../gql/index.ts';

export const PLACE_ORDER = graphql(`
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
          ...ItemAvailabilityFields
        }
      }
      ... on InvalidOrder {
        message
        field
      }
    }
  }
`);

export const MY_ORDERS = graphql(`
  query MyOrders($first: Int!, $after: String, $status: OrderStatus) {
    myOrders(first: $first, after: $after, status: $status) {
      edges {
        cursor
        node {
          ...OrderSummary
        }
      }
      pageInfo {
        ...PageInfoFields
      }
      totalCount
    }
  }
`);

export const ORDER = graphql(`
  query Order($id: ID!) {
    order(id: $id) {
      ...OrderDetails
    }
  }
`);

/** `after: "0"` replays the order's history first, then follows it live. */
export const ORDER_STATUS_CHANGED = graphql(`
  subscription OrderStatusChanged($orderId: ID!, $after: String) {
    orderStatusChanged(orderId: $orderId, after: $after) {
      orderId
      ...StatusChange
      order {
        ...OrderDetails
      }
    }
  }
`);

export const MY_ORDER_UPDATES = graphql(`
  subscription MyOrderUpdates($after: String) {
    myOrderUpdates(after: $after) {
      orderId
      ...StatusChange
      order {
        ...OrderState
      }
    }
  }
`);

export const CANCEL_ORDER = graphql(`
  mutation CancelOrder($orderId: ID!, $reason: String) {
    cancelOrder(orderId: $orderId, reason: $reason) {
      __typename
      ... on OrderCancelled {
        order {
          ...OrderState
        }
      }
      ... on CannotCancel {
        message
        status
      }
      ... on CancellationPending {
        message
      }
    }
  }
`);
