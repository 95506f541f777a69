import { gql, type TypedDocumentNode } from '@apollo/client';
import { ORDER_DETAILS } from './orders.ts';
import type { OrderDetails, ShipmentDetails, ShipmentStatus } from './types.ts';

const SHIPMENT_DETAILS = gql`
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
`;

/**
 * The operator's look-up: the contract has no "all orders" query, so the
 * operator enters an id, which may be an order's or a shipment's. Both
 * fields are asked at once; the one the id does not name answers null.
 */
export const OPERATOR_LOOKUP: TypedDocumentNode<
  { order: OrderDetails | null; shipment: (ShipmentDetails & { order: OrderDetails }) | null },
  { id: string }
> = gql`
  query OperatorLookup($id: ID!) {
    order(id: $id) {
      ...OrderDetails
    }
    shipment(id: $id) {
      ...ShipmentDetails
      order {
        ...OrderDetails
      }
    }
  }
  ${ORDER_DETAILS}
  ${SHIPMENT_DETAILS}
`;

export const UPDATE_SHIPMENT_STATUS: TypedDocumentNode<
  { updateShipmentStatus: ShipmentDetails },
  { input: { shipmentId: string; status: ShipmentStatus; location?: string | null; description?: string | null } }
> = gql`
  mutation UpdateShipmentStatus($input: UpdateShipmentStatusInput!) {
    updateShipmentStatus(input: $input) {
      ...ShipmentDetails
    }
  }
  ${SHIPMENT_DETAILS}
`;
