import type { ShipmentDetailsFragment } from '../gql/graphql.ts';
import { formatDateTime } from '../lib/format.ts';
import { CopyButton } from './copy-button.tsx';
import { StatusBadge } from './ui.tsx';

export function ShipmentCard({ shipment }: { shipment: ShipmentDetailsFragment }) {
  return (
    <div className="shipment" data-testid="shipment" data-shipment-id={shipment.id}>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={shipment.status} testId="shipment-status" />
        </dd>
        <dt>Carrier</dt>
        <dd data-testid="carrier">{shipment.carrier}</dd>
        <dt>Tracking number</dt>
        <dd className="mono" data-testid="tracking-number">
          {shipment.trackingNumber}
        </dd>
        <dt>Shipment id</dt>
        <dd className="mono small">
          {shipment.id} <CopyButton text={shipment.id} />
        </dd>
        {shipment.deliveredAt && (
          <>
            <dt>Delivered</dt>
            <dd>{formatDateTime(shipment.deliveredAt)}</dd>
          </>
        )}
      </dl>
      {shipment.events.length > 0 && (
        <>
          <h3>Delivery events</h3>
          <ul className="timeline" data-testid="delivery-events">
            {shipment.events.map((e) => (
              <li key={e.id}>
                <StatusBadge status={e.status} />
                <span className="muted">{formatDateTime(e.occurredAt)}</span>
                {(e.description || e.location) && (
                  <div className="reason">{[e.description, e.location].filter(Boolean).join(' — ')}</div>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
