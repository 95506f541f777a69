/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n": typeof types.SignUpDocument,
    "\n  mutation LogIn($input: LogInInput!) {\n    logIn(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n": typeof types.LogInDocument,
    "\n  mutation RefreshToken($refreshToken: String!) {\n    refreshToken(refreshToken: $refreshToken) {\n      ...AuthPayloadFields\n    }\n  }\n": typeof types.RefreshTokenDocument,
    "\n  mutation LogOut($refreshToken: String!) {\n    logOut(refreshToken: $refreshToken)\n  }\n": typeof types.LogOutDocument,
    "\n  fragment MoneyFields on Money {\n    amount\n    currencyCode\n  }\n": typeof types.MoneyFieldsFragmentDoc,
    "\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    endCursor\n  }\n": typeof types.PageInfoFieldsFragmentDoc,
    "\n  fragment AuthPayloadFields on AuthPayload {\n    accessToken\n    refreshToken\n    tokenType\n    expiresIn\n    scope\n  }\n": typeof types.AuthPayloadFieldsFragmentDoc,
    "\n  fragment CatalogProduct on Product {\n    id\n    sku\n    name\n    description\n    price {\n      ...MoneyFields\n    }\n    availableQuantity\n    lowStockThreshold\n  }\n": typeof types.CatalogProductFragmentDoc,
    "\n  fragment InventoryProduct on Product {\n    ...CatalogProduct\n    reservedQuantity\n    isActive\n  }\n": typeof types.InventoryProductFragmentDoc,
    "\n  fragment ItemAvailabilityFields on ItemAvailability {\n    productId\n    requested\n    available\n    isAvailable\n  }\n": typeof types.ItemAvailabilityFieldsFragmentDoc,
    "\n  fragment OrderState on Order {\n    id\n    status\n    updatedAt\n  }\n": typeof types.OrderStateFragmentDoc,
    "\n  fragment StatusChange on OrderStatusChange {\n    previousStatus\n    status\n    reason\n    occurredAt\n  }\n": typeof types.StatusChangeFragmentDoc,
    "\n  fragment OrderSummary on Order {\n    ...OrderState\n    totalAmount {\n      ...MoneyFields\n    }\n    createdAt\n    items {\n      productId\n      quantity\n      product {\n        id\n        name\n      }\n    }\n  }\n": typeof types.OrderSummaryFragmentDoc,
    "\n  fragment ShipmentDetails on Shipment {\n    id\n    orderId\n    carrier\n    trackingNumber\n    status\n    createdAt\n    updatedAt\n    deliveredAt\n    events {\n      id\n      status\n      description\n      location\n      occurredAt\n    }\n  }\n": typeof types.ShipmentDetailsFragmentDoc,
    "\n  fragment OrderDetails on Order {\n    ...OrderSummary\n    customerId\n    items {\n      unitPrice {\n        ...MoneyFields\n      }\n      lineTotal {\n        ...MoneyFields\n      }\n      product {\n        sku\n      }\n    }\n    shippingAddress {\n      name\n      line1\n      line2\n      city\n      postalCode\n      country\n    }\n    statusHistory {\n      ...StatusChange\n    }\n    shipment {\n      ...ShipmentDetails\n    }\n  }\n": typeof types.OrderDetailsFragmentDoc,
    "\n  fragment TimelineEntryFields on TimelineEntry {\n    at\n    kind\n    summary\n    actor\n    source\n  }\n": typeof types.TimelineEntryFieldsFragmentDoc,
    "\n  fragment OperatorOrderRow on Order {\n    ...OrderSummary\n    customerId\n    customerEmail\n    shipment {\n      id\n      status\n    }\n  }\n": typeof types.OperatorOrderRowFragmentDoc,
    "\n  query OperatorOrders($filter: OrderFilter, $first: Int!, $after: String) {\n    orders(filter: $filter, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...OperatorOrderRow\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n": typeof types.OperatorOrdersDocument,
    "\n  query OperatorOrder($id: ID!) {\n    order(id: $id) {\n      ...OrderDetails\n      customerEmail\n      items {\n        product {\n          availableQuantity\n          reservedQuantity\n        }\n      }\n      timeline {\n        ...TimelineEntryFields\n      }\n    }\n  }\n": typeof types.OperatorOrderDocument,
    "\n  mutation CancelOrderAsOperator($orderId: ID!, $reason: String) {\n    cancelOrderAsOperator(orderId: $orderId, reason: $reason) {\n      __typename\n      ... on OrderCancelled {\n        order {\n          ...OrderState\n        }\n      }\n      ... on CannotCancel {\n        message\n        status\n      }\n      ... on CancellationPending {\n        message\n        order {\n          ...OrderState\n        }\n      }\n    }\n  }\n": typeof types.CancelOrderAsOperatorDocument,
    "\n  mutation ReplayDeadLetter($sequence: Int!) {\n    replayDeadLetter(sequence: $sequence)\n  }\n": typeof types.ReplayDeadLetterDocument,
    "\n  query BusinessMetrics($windowMinutes: Int!) {\n    businessMetrics(windowMinutes: $windowMinutes) {\n      windowMinutes\n      ordersPerMinute {\n        at\n        value\n      }\n      successRate\n      averageOrderValue {\n        ...MoneyFields\n      }\n      p95ToPendingShipmentMs\n      backlog {\n        consumer\n        pending\n      }\n    }\n  }\n": typeof types.BusinessMetricsDocument,
    "\n  query ProductChoices($search: String) {\n    products(first: 10, search: $search) {\n      edges {\n        node {\n          id\n          name\n          sku\n        }\n      }\n    }\n  }\n": typeof types.ProductChoicesDocument,
    "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      __typename\n      ... on OrderPlaced {\n        order {\n          ...OrderSummary\n        }\n      }\n      ... on ProductsUnavailable {\n        message\n        unavailableItems {\n          ...ItemAvailabilityFields\n        }\n      }\n      ... on InvalidOrder {\n        message\n        field\n      }\n    }\n  }\n": typeof types.PlaceOrderDocument,
    "\n  query MyOrders($first: Int!, $after: String, $status: OrderStatus) {\n    myOrders(first: $first, after: $after, status: $status) {\n      edges {\n        cursor\n        node {\n          ...OrderSummary\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n": typeof types.MyOrdersDocument,
    "\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderDetails\n    }\n  }\n": typeof types.OrderDocument,
    "\n  subscription OrderStatusChanged($orderId: ID!, $after: String) {\n    orderStatusChanged(orderId: $orderId, after: $after) {\n      orderId\n      ...StatusChange\n      order {\n        ...OrderDetails\n      }\n    }\n  }\n": typeof types.OrderStatusChangedDocument,
    "\n  subscription MyOrderUpdates($after: String) {\n    myOrderUpdates(after: $after) {\n      orderId\n      ...StatusChange\n      order {\n        ...OrderState\n      }\n    }\n  }\n": typeof types.MyOrderUpdatesDocument,
    "\n  mutation CancelOrder($orderId: ID!, $reason: String) {\n    cancelOrder(orderId: $orderId, reason: $reason) {\n      __typename\n      ... on OrderCancelled {\n        order {\n          ...OrderState\n        }\n      }\n      ... on CannotCancel {\n        message\n        status\n      }\n      ... on CancellationPending {\n        message\n      }\n    }\n  }\n": typeof types.CancelOrderDocument,
    "\n  query CatalogProducts($first: Int!, $after: String, $search: String) {\n    products(first: $first, after: $after, search: $search) {\n      edges {\n        cursor\n        node {\n          ...CatalogProduct\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n": typeof types.CatalogProductsDocument,
    "\n  query CheckAvailability($items: [AvailabilityItemInput!]!) {\n    checkAvailability(items: $items) {\n      allAvailable\n      items {\n        ...ItemAvailabilityFields\n      }\n    }\n  }\n": typeof types.CheckAvailabilityDocument,
    "\n  query InventoryProducts($first: Int!, $after: String, $search: String) {\n    products(first: $first, after: $after, search: $search) {\n      edges {\n        cursor\n        node {\n          ...InventoryProduct\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n": typeof types.InventoryProductsDocument,
    "\n  mutation RestockProduct($productId: ID!, $quantity: Int!, $reason: String) {\n    restockProduct(productId: $productId, quantity: $quantity, reason: $reason) {\n      id\n      availableQuantity\n      reservedQuantity\n    }\n  }\n": typeof types.RestockProductDocument,
    "\n  subscription LowStockAlerts($after: String) {\n    lowStockAlerts(after: $after) {\n      product {\n        id\n        name\n        sku\n        availableQuantity\n        lowStockThreshold\n      }\n      availableQuantity\n      threshold\n      occurredAt\n    }\n  }\n": typeof types.LowStockAlertsDocument,
    "\n  query OperatorLookup($id: ID!) {\n    order(id: $id) {\n      ...OrderDetails\n    }\n    shipment(id: $id) {\n      ...ShipmentDetails\n      order {\n        ...OrderDetails\n      }\n    }\n  }\n": typeof types.OperatorLookupDocument,
    "\n  mutation UpdateShipmentStatus($input: UpdateShipmentStatusInput!) {\n    updateShipmentStatus(input: $input) {\n      ...ShipmentDetails\n    }\n  }\n": typeof types.UpdateShipmentStatusDocument,
};
const documents: Documents = {
    "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n": types.SignUpDocument,
    "\n  mutation LogIn($input: LogInInput!) {\n    logIn(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n": types.LogInDocument,
    "\n  mutation RefreshToken($refreshToken: String!) {\n    refreshToken(refreshToken: $refreshToken) {\n      ...AuthPayloadFields\n    }\n  }\n": types.RefreshTokenDocument,
    "\n  mutation LogOut($refreshToken: String!) {\n    logOut(refreshToken: $refreshToken)\n  }\n": types.LogOutDocument,
    "\n  fragment MoneyFields on Money {\n    amount\n    currencyCode\n  }\n": types.MoneyFieldsFragmentDoc,
    "\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    endCursor\n  }\n": types.PageInfoFieldsFragmentDoc,
    "\n  fragment AuthPayloadFields on AuthPayload {\n    accessToken\n    refreshToken\n    tokenType\n    expiresIn\n    scope\n  }\n": types.AuthPayloadFieldsFragmentDoc,
    "\n  fragment CatalogProduct on Product {\n    id\n    sku\n    name\n    description\n    price {\n      ...MoneyFields\n    }\n    availableQuantity\n    lowStockThreshold\n  }\n": types.CatalogProductFragmentDoc,
    "\n  fragment InventoryProduct on Product {\n    ...CatalogProduct\n    reservedQuantity\n    isActive\n  }\n": types.InventoryProductFragmentDoc,
    "\n  fragment ItemAvailabilityFields on ItemAvailability {\n    productId\n    requested\n    available\n    isAvailable\n  }\n": types.ItemAvailabilityFieldsFragmentDoc,
    "\n  fragment OrderState on Order {\n    id\n    status\n    updatedAt\n  }\n": types.OrderStateFragmentDoc,
    "\n  fragment StatusChange on OrderStatusChange {\n    previousStatus\n    status\n    reason\n    occurredAt\n  }\n": types.StatusChangeFragmentDoc,
    "\n  fragment OrderSummary on Order {\n    ...OrderState\n    totalAmount {\n      ...MoneyFields\n    }\n    createdAt\n    items {\n      productId\n      quantity\n      product {\n        id\n        name\n      }\n    }\n  }\n": types.OrderSummaryFragmentDoc,
    "\n  fragment ShipmentDetails on Shipment {\n    id\n    orderId\n    carrier\n    trackingNumber\n    status\n    createdAt\n    updatedAt\n    deliveredAt\n    events {\n      id\n      status\n      description\n      location\n      occurredAt\n    }\n  }\n": types.ShipmentDetailsFragmentDoc,
    "\n  fragment OrderDetails on Order {\n    ...OrderSummary\n    customerId\n    items {\n      unitPrice {\n        ...MoneyFields\n      }\n      lineTotal {\n        ...MoneyFields\n      }\n      product {\n        sku\n      }\n    }\n    shippingAddress {\n      name\n      line1\n      line2\n      city\n      postalCode\n      country\n    }\n    statusHistory {\n      ...StatusChange\n    }\n    shipment {\n      ...ShipmentDetails\n    }\n  }\n": types.OrderDetailsFragmentDoc,
    "\n  fragment TimelineEntryFields on TimelineEntry {\n    at\n    kind\n    summary\n    actor\n    source\n  }\n": types.TimelineEntryFieldsFragmentDoc,
    "\n  fragment OperatorOrderRow on Order {\n    ...OrderSummary\n    customerId\n    customerEmail\n    shipment {\n      id\n      status\n    }\n  }\n": types.OperatorOrderRowFragmentDoc,
    "\n  query OperatorOrders($filter: OrderFilter, $first: Int!, $after: String) {\n    orders(filter: $filter, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...OperatorOrderRow\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n": types.OperatorOrdersDocument,
    "\n  query OperatorOrder($id: ID!) {\n    order(id: $id) {\n      ...OrderDetails\n      customerEmail\n      items {\n        product {\n          availableQuantity\n          reservedQuantity\n        }\n      }\n      timeline {\n        ...TimelineEntryFields\n      }\n    }\n  }\n": types.OperatorOrderDocument,
    "\n  mutation CancelOrderAsOperator($orderId: ID!, $reason: String) {\n    cancelOrderAsOperator(orderId: $orderId, reason: $reason) {\n      __typename\n      ... on OrderCancelled {\n        order {\n          ...OrderState\n        }\n      }\n      ... on CannotCancel {\n        message\n        status\n      }\n      ... on CancellationPending {\n        message\n        order {\n          ...OrderState\n        }\n      }\n    }\n  }\n": types.CancelOrderAsOperatorDocument,
    "\n  mutation ReplayDeadLetter($sequence: Int!) {\n    replayDeadLetter(sequence: $sequence)\n  }\n": types.ReplayDeadLetterDocument,
    "\n  query BusinessMetrics($windowMinutes: Int!) {\n    businessMetrics(windowMinutes: $windowMinutes) {\n      windowMinutes\n      ordersPerMinute {\n        at\n        value\n      }\n      successRate\n      averageOrderValue {\n        ...MoneyFields\n      }\n      p95ToPendingShipmentMs\n      backlog {\n        consumer\n        pending\n      }\n    }\n  }\n": types.BusinessMetricsDocument,
    "\n  query ProductChoices($search: String) {\n    products(first: 10, search: $search) {\n      edges {\n        node {\n          id\n          name\n          sku\n        }\n      }\n    }\n  }\n": types.ProductChoicesDocument,
    "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      __typename\n      ... on OrderPlaced {\n        order {\n          ...OrderSummary\n        }\n      }\n      ... on ProductsUnavailable {\n        message\n        unavailableItems {\n          ...ItemAvailabilityFields\n        }\n      }\n      ... on InvalidOrder {\n        message\n        field\n      }\n    }\n  }\n": types.PlaceOrderDocument,
    "\n  query MyOrders($first: Int!, $after: String, $status: OrderStatus) {\n    myOrders(first: $first, after: $after, status: $status) {\n      edges {\n        cursor\n        node {\n          ...OrderSummary\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n": types.MyOrdersDocument,
    "\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderDetails\n    }\n  }\n": types.OrderDocument,
    "\n  subscription OrderStatusChanged($orderId: ID!, $after: String) {\n    orderStatusChanged(orderId: $orderId, after: $after) {\n      orderId\n      ...StatusChange\n      order {\n        ...OrderDetails\n      }\n    }\n  }\n": types.OrderStatusChangedDocument,
    "\n  subscription MyOrderUpdates($after: String) {\n    myOrderUpdates(after: $after) {\n      orderId\n      ...StatusChange\n      order {\n        ...OrderState\n      }\n    }\n  }\n": types.MyOrderUpdatesDocument,
    "\n  mutation CancelOrder($orderId: ID!, $reason: String) {\n    cancelOrder(orderId: $orderId, reason: $reason) {\n      __typename\n      ... on OrderCancelled {\n        order {\n          ...OrderState\n        }\n      }\n      ... on CannotCancel {\n        message\n        status\n      }\n      ... on CancellationPending {\n        message\n      }\n    }\n  }\n": types.CancelOrderDocument,
    "\n  query CatalogProducts($first: Int!, $after: String, $search: String) {\n    products(first: $first, after: $after, search: $search) {\n      edges {\n        cursor\n        node {\n          ...CatalogProduct\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n": types.CatalogProductsDocument,
    "\n  query CheckAvailability($items: [AvailabilityItemInput!]!) {\n    checkAvailability(items: $items) {\n      allAvailable\n      items {\n        ...ItemAvailabilityFields\n      }\n    }\n  }\n": types.CheckAvailabilityDocument,
    "\n  query InventoryProducts($first: Int!, $after: String, $search: String) {\n    products(first: $first, after: $after, search: $search) {\n      edges {\n        cursor\n        node {\n          ...InventoryProduct\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n": types.InventoryProductsDocument,
    "\n  mutation RestockProduct($productId: ID!, $quantity: Int!, $reason: String) {\n    restockProduct(productId: $productId, quantity: $quantity, reason: $reason) {\n      id\n      availableQuantity\n      reservedQuantity\n    }\n  }\n": types.RestockProductDocument,
    "\n  subscription LowStockAlerts($after: String) {\n    lowStockAlerts(after: $after) {\n      product {\n        id\n        name\n        sku\n        availableQuantity\n        lowStockThreshold\n      }\n      availableQuantity\n      threshold\n      occurredAt\n    }\n  }\n": types.LowStockAlertsDocument,
    "\n  query OperatorLookup($id: ID!) {\n    order(id: $id) {\n      ...OrderDetails\n    }\n    shipment(id: $id) {\n      ...ShipmentDetails\n      order {\n        ...OrderDetails\n      }\n    }\n  }\n": types.OperatorLookupDocument,
    "\n  mutation UpdateShipmentStatus($input: UpdateShipmentStatusInput!) {\n    updateShipmentStatus(input: $input) {\n      ...ShipmentDetails\n    }\n  }\n": types.UpdateShipmentStatusDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n"): (typeof documents)["\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LogIn($input: LogInInput!) {\n    logIn(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n"): (typeof documents)["\n  mutation LogIn($input: LogInInput!) {\n    logIn(input: $input) {\n      ...AuthPayloadFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefreshToken($refreshToken: String!) {\n    refreshToken(refreshToken: $refreshToken) {\n      ...AuthPayloadFields\n    }\n  }\n"): (typeof documents)["\n  mutation RefreshToken($refreshToken: String!) {\n    refreshToken(refreshToken: $refreshToken) {\n      ...AuthPayloadFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LogOut($refreshToken: String!) {\n    logOut(refreshToken: $refreshToken)\n  }\n"): (typeof documents)["\n  mutation LogOut($refreshToken: String!) {\n    logOut(refreshToken: $refreshToken)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment MoneyFields on Money {\n    amount\n    currencyCode\n  }\n"): (typeof documents)["\n  fragment MoneyFields on Money {\n    amount\n    currencyCode\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    endCursor\n  }\n"): (typeof documents)["\n  fragment PageInfoFields on PageInfo {\n    hasNextPage\n    endCursor\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AuthPayloadFields on AuthPayload {\n    accessToken\n    refreshToken\n    tokenType\n    expiresIn\n    scope\n  }\n"): (typeof documents)["\n  fragment AuthPayloadFields on AuthPayload {\n    accessToken\n    refreshToken\n    tokenType\n    expiresIn\n    scope\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CatalogProduct on Product {\n    id\n    sku\n    name\n    description\n    price {\n      ...MoneyFields\n    }\n    availableQuantity\n    lowStockThreshold\n  }\n"): (typeof documents)["\n  fragment CatalogProduct on Product {\n    id\n    sku\n    name\n    description\n    price {\n      ...MoneyFields\n    }\n    availableQuantity\n    lowStockThreshold\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment InventoryProduct on Product {\n    ...CatalogProduct\n    reservedQuantity\n    isActive\n  }\n"): (typeof documents)["\n  fragment InventoryProduct on Product {\n    ...CatalogProduct\n    reservedQuantity\n    isActive\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ItemAvailabilityFields on ItemAvailability {\n    productId\n    requested\n    available\n    isAvailable\n  }\n"): (typeof documents)["\n  fragment ItemAvailabilityFields on ItemAvailability {\n    productId\n    requested\n    available\n    isAvailable\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment OrderState on Order {\n    id\n    status\n    updatedAt\n  }\n"): (typeof documents)["\n  fragment OrderState on Order {\n    id\n    status\n    updatedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment StatusChange on OrderStatusChange {\n    previousStatus\n    status\n    reason\n    occurredAt\n  }\n"): (typeof documents)["\n  fragment StatusChange on OrderStatusChange {\n    previousStatus\n    status\n    reason\n    occurredAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment OrderSummary on Order {\n    ...OrderState\n    totalAmount {\n      ...MoneyFields\n    }\n    createdAt\n    items {\n      productId\n      quantity\n      product {\n        id\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment OrderSummary on Order {\n    ...OrderState\n    totalAmount {\n      ...MoneyFields\n    }\n    createdAt\n    items {\n      productId\n      quantity\n      product {\n        id\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ShipmentDetails on Shipment {\n    id\n    orderId\n    carrier\n    trackingNumber\n    status\n    createdAt\n    updatedAt\n    deliveredAt\n    events {\n      id\n      status\n      description\n      location\n      occurredAt\n    }\n  }\n"): (typeof documents)["\n  fragment ShipmentDetails on Shipment {\n    id\n    orderId\n    carrier\n    trackingNumber\n    status\n    createdAt\n    updatedAt\n    deliveredAt\n    events {\n      id\n      status\n      description\n      location\n      occurredAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment OrderDetails on Order {\n    ...OrderSummary\n    customerId\n    items {\n      unitPrice {\n        ...MoneyFields\n      }\n      lineTotal {\n        ...MoneyFields\n      }\n      product {\n        sku\n      }\n    }\n    shippingAddress {\n      name\n      line1\n      line2\n      city\n      postalCode\n      country\n    }\n    statusHistory {\n      ...StatusChange\n    }\n    shipment {\n      ...ShipmentDetails\n    }\n  }\n"): (typeof documents)["\n  fragment OrderDetails on Order {\n    ...OrderSummary\n    customerId\n    items {\n      unitPrice {\n        ...MoneyFields\n      }\n      lineTotal {\n        ...MoneyFields\n      }\n      product {\n        sku\n      }\n    }\n    shippingAddress {\n      name\n      line1\n      line2\n      city\n      postalCode\n      country\n    }\n    statusHistory {\n      ...StatusChange\n    }\n    shipment {\n      ...ShipmentDetails\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TimelineEntryFields on TimelineEntry {\n    at\n    kind\n    summary\n    actor\n    source\n  }\n"): (typeof documents)["\n  fragment TimelineEntryFields on TimelineEntry {\n    at\n    kind\n    summary\n    actor\n    source\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment OperatorOrderRow on Order {\n    ...OrderSummary\n    customerId\n    customerEmail\n    shipment {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  fragment OperatorOrderRow on Order {\n    ...OrderSummary\n    customerId\n    customerEmail\n    shipment {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OperatorOrders($filter: OrderFilter, $first: Int!, $after: String) {\n    orders(filter: $filter, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...OperatorOrderRow\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query OperatorOrders($filter: OrderFilter, $first: Int!, $after: String) {\n    orders(filter: $filter, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...OperatorOrderRow\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OperatorOrder($id: ID!) {\n    order(id: $id) {\n      ...OrderDetails\n      customerEmail\n      items {\n        product {\n          availableQuantity\n          reservedQuantity\n        }\n      }\n      timeline {\n        ...TimelineEntryFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query OperatorOrder($id: ID!) {\n    order(id: $id) {\n      ...OrderDetails\n      customerEmail\n      items {\n        product {\n          availableQuantity\n          reservedQuantity\n        }\n      }\n      timeline {\n        ...TimelineEntryFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelOrderAsOperator($orderId: ID!, $reason: String) {\n    cancelOrderAsOperator(orderId: $orderId, reason: $reason) {\n      __typename\n      ... on OrderCancelled {\n        order {\n          ...OrderState\n        }\n      }\n      ... on CannotCancel {\n        message\n        status\n      }\n      ... on CancellationPending {\n        message\n        order {\n          ...OrderState\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CancelOrderAsOperator($orderId: ID!, $reason: String) {\n    cancelOrderAsOperator(orderId: $orderId, reason: $reason) {\n      __typename\n      ... on OrderCancelled {\n        order {\n          ...OrderState\n        }\n      }\n      ... on CannotCancel {\n        message\n        status\n      }\n      ... on CancellationPending {\n        message\n        order {\n          ...OrderState\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReplayDeadLetter($sequence: Int!) {\n    replayDeadLetter(sequence: $sequence)\n  }\n"): (typeof documents)["\n  mutation ReplayDeadLetter($sequence: Int!) {\n    replayDeadLetter(sequence: $sequence)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BusinessMetrics($windowMinutes: Int!) {\n    businessMetrics(windowMinutes: $windowMinutes) {\n      windowMinutes\n      ordersPerMinute {\n        at\n        value\n      }\n      successRate\n      averageOrderValue {\n        ...MoneyFields\n      }\n      p95ToPendingShipmentMs\n      backlog {\n        consumer\n        pending\n      }\n    }\n  }\n"): (typeof documents)["\n  query BusinessMetrics($windowMinutes: Int!) {\n    businessMetrics(windowMinutes: $windowMinutes) {\n      windowMinutes\n      ordersPerMinute {\n        at\n        value\n      }\n      successRate\n      averageOrderValue {\n        ...MoneyFields\n      }\n      p95ToPendingShipmentMs\n      backlog {\n        consumer\n        pending\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProductChoices($search: String) {\n    products(first: 10, search: $search) {\n      edges {\n        node {\n          id\n          name\n          sku\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ProductChoices($search: String) {\n    products(first: 10, search: $search) {\n      edges {\n        node {\n          id\n          name\n          sku\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      __typename\n      ... on OrderPlaced {\n        order {\n          ...OrderSummary\n        }\n      }\n      ... on ProductsUnavailable {\n        message\n        unavailableItems {\n          ...ItemAvailabilityFields\n        }\n      }\n      ... on InvalidOrder {\n        message\n        field\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      __typename\n      ... on OrderPlaced {\n        order {\n          ...OrderSummary\n        }\n      }\n      ... on ProductsUnavailable {\n        message\n        unavailableItems {\n          ...ItemAvailabilityFields\n        }\n      }\n      ... on InvalidOrder {\n        message\n        field\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyOrders($first: Int!, $after: String, $status: OrderStatus) {\n    myOrders(first: $first, after: $after, status: $status) {\n      edges {\n        cursor\n        node {\n          ...OrderSummary\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query MyOrders($first: Int!, $after: String, $status: OrderStatus) {\n    myOrders(first: $first, after: $after, status: $status) {\n      edges {\n        cursor\n        node {\n          ...OrderSummary\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderDetails\n    }\n  }\n"): (typeof documents)["\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderDetails\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription OrderStatusChanged($orderId: ID!, $after: String) {\n    orderStatusChanged(orderId: $orderId, after: $after) {\n      orderId\n      ...StatusChange\n      order {\n        ...OrderDetails\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription OrderStatusChanged($orderId: ID!, $after: String) {\n    orderStatusChanged(orderId: $orderId, after: $after) {\n      orderId\n      ...StatusChange\n      order {\n        ...OrderDetails\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription MyOrderUpdates($after: String) {\n    myOrderUpdates(after: $after) {\n      orderId\n      ...StatusChange\n      order {\n        ...OrderState\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription MyOrderUpdates($after: String) {\n    myOrderUpdates(after: $after) {\n      orderId\n      ...StatusChange\n      order {\n        ...OrderState\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelOrder($orderId: ID!, $reason: String) {\n    cancelOrder(orderId: $orderId, reason: $reason) {\n      __typename\n      ... on OrderCancelled {\n        order {\n          ...OrderState\n        }\n      }\n      ... on CannotCancel {\n        message\n        status\n      }\n      ... on CancellationPending {\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CancelOrder($orderId: ID!, $reason: String) {\n    cancelOrder(orderId: $orderId, reason: $reason) {\n      __typename\n      ... on OrderCancelled {\n        order {\n          ...OrderState\n        }\n      }\n      ... on CannotCancel {\n        message\n        status\n      }\n      ... on CancellationPending {\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CatalogProducts($first: Int!, $after: String, $search: String) {\n    products(first: $first, after: $after, search: $search) {\n      edges {\n        cursor\n        node {\n          ...CatalogProduct\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query CatalogProducts($first: Int!, $after: String, $search: String) {\n    products(first: $first, after: $after, search: $search) {\n      edges {\n        cursor\n        node {\n          ...CatalogProduct\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CheckAvailability($items: [AvailabilityItemInput!]!) {\n    checkAvailability(items: $items) {\n      allAvailable\n      items {\n        ...ItemAvailabilityFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query CheckAvailability($items: [AvailabilityItemInput!]!) {\n    checkAvailability(items: $items) {\n      allAvailable\n      items {\n        ...ItemAvailabilityFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query InventoryProducts($first: Int!, $after: String, $search: String) {\n    products(first: $first, after: $after, search: $search) {\n      edges {\n        cursor\n        node {\n          ...InventoryProduct\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query InventoryProducts($first: Int!, $after: String, $search: String) {\n    products(first: $first, after: $after, search: $search) {\n      edges {\n        cursor\n        node {\n          ...InventoryProduct\n        }\n      }\n      pageInfo {\n        ...PageInfoFields\n      }\n      totalCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RestockProduct($productId: ID!, $quantity: Int!, $reason: String) {\n    restockProduct(productId: $productId, quantity: $quantity, reason: $reason) {\n      id\n      availableQuantity\n      reservedQuantity\n    }\n  }\n"): (typeof documents)["\n  mutation RestockProduct($productId: ID!, $quantity: Int!, $reason: String) {\n    restockProduct(productId: $productId, quantity: $quantity, reason: $reason) {\n      id\n      availableQuantity\n      reservedQuantity\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription LowStockAlerts($after: String) {\n    lowStockAlerts(after: $after) {\n      product {\n        id\n        name\n        sku\n        availableQuantity\n        lowStockThreshold\n      }\n      availableQuantity\n      threshold\n      occurredAt\n    }\n  }\n"): (typeof documents)["\n  subscription LowStockAlerts($after: String) {\n    lowStockAlerts(after: $after) {\n      product {\n        id\n        name\n        sku\n        availableQuantity\n        lowStockThreshold\n      }\n      availableQuantity\n      threshold\n      occurredAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OperatorLookup($id: ID!) {\n    order(id: $id) {\n      ...OrderDetails\n    }\n    shipment(id: $id) {\n      ...ShipmentDetails\n      order {\n        ...OrderDetails\n      }\n    }\n  }\n"): (typeof documents)["\n  query OperatorLookup($id: ID!) {\n    order(id: $id) {\n      ...OrderDetails\n    }\n    shipment(id: $id) {\n      ...ShipmentDetails\n      order {\n        ...OrderDetails\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateShipmentStatus($input: UpdateShipmentStatusInput!) {\n    updateShipmentStatus(input: $input) {\n      ...ShipmentDetails\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateShipmentStatus($input: UpdateShipmentStatusInput!) {\n    updateShipmentStatus(input: $input) {\n      ...ShipmentDetails\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;