import { useMutation } from '@apollo/client/react';
import { useState } from 'react';
import { UPDATE_SHIPMENT_STATUS } from '../graphql/shipments.ts';
import type { ShipmentDetailsFragment, ShipmentStatus } from '../gql/graphql.ts';
import { ErrorBanner, statusLabel } from './ui.tsx';

/** The one step forward a shipment can take from each status. */
export const NEXT_SHIPMENT_STATUS: Partial<Record<ShipmentStatus, ShipmentStatus>> = {
  PROCESSING: 'SHIPPED',
  SHIPPED: 'IN_TRANSIT',
  IN_TRANSIT: 'DELIVERED',
};

/** Moves a shipment one step forward (updateShipmentStatus), with an optional location. */
export function ShipmentMover({ shipment, onMoved }: { shipment: ShipmentDetailsFragment; onMoved?: () => void }) {
  const [location, setLocation] = useState('');
  const [update, { loading, error }] = useMutation(UPDATE_SHIPMENT_STATUS);
  const next = NEXT_SHIPMENT_STATUS[shipment.status];

  async function moveForward() {
    if (!next) return;
    const res = await update({
      variables: { input: { shipmentId: shipment.id, status: next, location: location.trim() || null } },
    }).catch(() => null);
    if (res?.data) setLocation('');
    onMoved?.();
  }

  if (!next)
    return <p className="muted">This shipment is {statusLabel(shipment.status).toLowerCase()}: nothing more to do.</p>;
  return (
    <>
      <div className="inline-form">
        <input
          placeholder="Location (optional)"
          value={location}
          onChange={(e) => setLocation(e.target.value)}
          aria-label="Location"
        />
        <button
          type="button"
          className="primary"
          onClick={moveForward}
          disabled={loading}
          data-testid="advance-shipment"
          data-next={next}
        >
          Mark as {statusLabel(next)}
        </button>
      </div>
      <ErrorBanner error={error} />
    </>
  );
}
