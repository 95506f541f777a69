// The operator console's operations (scopes orders:read:all, orders:cancel:any,
// dlq:replay, shipments:write, inventory:*): find orders, follow one, act on it,
// and the live business figures of the dashboard.
import { graphql } from '../gql/index.ts';

/** One line of an order's timeline, as the console shows it. */
export const TimelineEntryFields = graphql(`
  fragment TimelineEntryFields on TimelineEntry {
    at
    kind
    summary
    actor
    source
  }
`);

/** A row of the search's result list. */
export const OperatorOrderRow = graphql(`
  fragment OperatorOrderRow on Order {
    ...OrderSummary
    customerId
    customerEmail
    shipment {
      id
      status
    }
  }
`);

export const OPERATOR_ORDERS = graphql(`
  query OperatorOrders($filter: OrderFilter, $first: Int!, $after: String) {
    orders(filter: $filter, first: $first, after: $after) {
      edges {
        cursor
        node {
          ...OperatorOrderRow
        }
      }
      pageInfo {
        ...PageInfoFields
      }
      totalCount
    }
  }
`);

/** The order page of the console: the order, its shipment, each product's stock now, and the timeline. */
export const OPERATOR_ORDER = graphql(`
  query OperatorOrder($id: ID!) {
    order(id: $id) {
      ...OrderDetails
      customerEmail
      items {
        product {
          availableQuantity
          reservedQuantity
        }
      }
      timeline {
        ...TimelineEntryFields
      }
    }
  }
`);

export const CANCEL_ORDER_AS_OPERATOR = graphql(`
  mutation CancelOrderAsOperator($orderId: ID!, $reason: String) {
    cancelOrderAsOperator(orderId: $orderId, reason: $reason) {
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
        order {
          ...OrderState
        }
      }
    }
  }
`);

export const REPLAY_DEAD_LETTER = graphql(`
  mutation ReplayDeadLetter($sequence: Int!) {
    replayDeadLetter(sequence: $sequence)
  }
`);

export const BUSINESS_METRICS = graphql(`
  query BusinessMetrics($windowMinutes: Int!) {
    businessMetrics(windowMinutes: $windowMinutes) {
      windowMinutes
      ordersPerMinute {
        at
        value
      }
      successRate
      averageOrderValue {
        ...MoneyFields
      }
      p95ToPendingShipmentMs
      backlog {
        consumer
        pending
      }
    }
  }
`);

/** The search form's product filter: products whose name or SKU matches what the operator typed. */
export const PRODUCT_CHOICES = graphql(`
  query ProductChoices($search: String) {
    products(first: 10, search: $search) {
      edges {
        node {
          id
          name
          sku
        }
      }
    }
  }
`);
