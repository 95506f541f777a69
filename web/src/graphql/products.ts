import { graphql } from '../gql/index.ts';

export const CATALOG_PRODUCTS = graphql(`
  query CatalogProducts($first: Int!, $after: String, $search: String) {
    products(first: $first, after: $after, search: $search) {
      edges {
        cursor
        node {
          ...CatalogProduct
        }
      }
      pageInfo {
        ...PageInfoFields
      }
      totalCount
    }
  }
`);

export const CHECK_AVAILABILITY = graphql(`
  query CheckAvailability($items: [AvailabilityItemInput!]!) {
    checkAvailability(items: $items) {
      allAvailable
      items {
        ...ItemAvailabilityFields
      }
    }
  }
`);

export const INVENTORY_PRODUCTS = graphql(`
  query InventoryProducts($first: Int!, $after: String, $search: String) {
    products(first: $first, after: $after, search: $search) {
      edges {
        cursor
        node {
          ...InventoryProduct
        }
      }
      pageInfo {
        ...PageInfoFields
      }
      totalCount
    }
  }
`);

export const RESTOCK_PRODUCT = graphql(`
  mutation RestockProduct($productId: ID!, $quantity: Int!, $reason: String) {
    restockProduct(productId: $productId, quantity: $quantity, reason: $reason) {
      id
      availableQuantity
      reservedQuantity
    }
  }
`);

export const LOW_STOCK_ALERTS = graphql(`
  subscription LowStockAlerts($after: String) {
    lowStockAlerts(after: $after) {
      product {
        id
        name
        sku
        availableQuantity
        lowStockThreshold
      }
      availableQuantity
      threshold
      occurredAt
    }
  }
`);
