import { graphql } from '../gql/index.ts';

/**
 * The operator's look-up: the API has no "all orders" query, so the
 * operator enters an id, which may be an order's or a shipment's. Both
 * fields are asked at once; the one the id does not name answers null.
 */
export const OPERATOR_LOOKUP = graphql(`
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
`);

export const UPDATE_SHIPMENT_STATUS = graphql(`
  mutation UpdateShipmentStatus($input: UpdateShipmentStatusInput!) {
    updateShipmentStatus(input: $input) {
      ...ShipmentDetails
    }
  }
`);
