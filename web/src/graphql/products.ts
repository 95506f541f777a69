import { gql, type TypedDocumentNode } from '@apollo/client';
import type { CatalogProduct, InventoryProduct, ItemAvailability, LowStockAlert, PageInfo } from './types.ts';

type Connection<T> = { edges: { cursor: string; node: T }[]; pageInfo: PageInfo; totalCount: number };
export type ProductsVars = { first: number; after?: string | null; search?: string | null };

export const CATALOG_PRODUCTS: TypedDocumentNode<{ products: Connection<CatalogProduct> }, ProductsVars> = gql`
  query CatalogProducts($first: Int!, $after: String, $search: String) {
    products(first: $first, after: $after, search: $search) {
      edges {
        cursor
        node {
          id
          sku
          name
          description
          price {
            amount
            currencyCode
          }
          availableQuantity
          lowStockThreshold
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
      totalCount
    }
  }
`;

export const CHECK_AVAILABILITY: TypedDocumentNode<
  { checkAvailability: { allAvailable: boolean; items: ItemAvailability[] } },
  { items: { productId: string; quantity: number }[] }
> = gql`
  query CheckAvailability($items: [AvailabilityItemInput!]!) {
    checkAvailability(items: $items) {
      allAvailable
      items {
        productId
        requested
        available
        isAvailable
      }
    }
  }
`;

export const INVENTORY_PRODUCTS: TypedDocumentNode<{ products: Connection<InventoryProduct> }, ProductsVars> = gql`
  query InventoryProducts($first: Int!, $after: String, $search: String) {
    products(first: $first, after: $after, search: $search) {
      edges {
        cursor
        node {
          id
          sku
          name
          description
          price {
            amount
            currencyCode
          }
          availableQuantity
          reservedQuantity
          lowStockThreshold
          isActive
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
      totalCount
    }
  }
`;

export const RESTOCK_PRODUCT: TypedDocumentNode<
  { restockProduct: { id: string; availableQuantity: number; reservedQuantity: number } },
  { productId: string; quantity: number; reason?: string }
> = gql`
  mutation RestockProduct($productId: ID!, $quantity: Int!, $reason: String) {
    restockProduct(productId: $productId, quantity: $quantity, reason: $reason) {
      id
      availableQuantity
      reservedQuantity
    }
  }
`;

export const LOW_STOCK_ALERTS: TypedDocumentNode<{ lowStockAlerts: LowStockAlert }, { after?: string | null }> = gql`
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
`;
