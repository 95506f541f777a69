// Selections that several operations share, as fragments: each is written once
// and codegen types it once (`<Name>Fragment` in ../gql/graphql.ts). Operations
// spread them by name; the client preset adds the definitions they use.
import { graphql } from '../gql/index.ts';

export const MoneyFields = graphql(`
  fragment MoneyFields on Money {
    amount
    currencyCode
  }
`);

export const PageInfoFields = graphql(`
  fragment PageInfoFields on PageInfo {
    hasNextPage
    endCursor
  }
`);

export const AuthPayloadFields = graphql(`
  fragment AuthPayloadFields on AuthPayload {
    accessToken
    refreshToken
    tokenType
    expiresIn
    scope
  }
`);

/** What the catalog shows of a product. */
export const CatalogProduct = graphql(`
  fragment CatalogProduct on Product {
    id
    sku
    name
    description
    price {
      ...MoneyFields
    }
    availableQuantity
    lowStockThreshold
  }
`);

/** What the operator console shows of a product: the catalog's view and its stock. */
export const InventoryProduct = graphql(`
  fragment InventoryProduct on Product {
    ...CatalogProduct
    reservedQuantity
    isActive
  }
`);

export const ItemAvailabilityFields = graphql(`
  fragment ItemAvailabilityFields on ItemAvailability {
    productId
    requested
    available
    isAvailable
  }
`);

/** An order's current state: enough for a list to re-render when a status event arrives. */
export const OrderState = graphql(`
  fragment OrderState on Order {
    id
    status
    updatedAt
  }
`);

export const StatusChange = graphql(`
  fragment StatusChange on OrderStatusChange {
    previousStatus
    status
    reason
    occurredAt
  }
`);

/** A line of the customer's order list. */
export const OrderSummary = graphql(`
  fragment OrderSummary on Order {
    ...OrderState
    totalAmount {
      ...MoneyFields
    }
    createdAt
    items {
      productId
      quantity
      product {
        id
        name
      }
    }
  }
`);

export const ShipmentDetails = graphql(`
  fragment ShipmentDetails on Shipment {
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
`);

/** Everything the order page shows; subscription payloads select it too, so each event refreshes the cached order. */
export const OrderDetails = graphql(`
  fragment OrderDetails on Order {
    ...OrderSummary
    customerId
    items {
      unitPrice {
        ...MoneyFields
      }
      lineTotal {
        ...MoneyFields
      }
      product {
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
      ...StatusChange
    }
    shipment {
      ...ShipmentDetails
    }
  }
`);
