-- Who moved a shipment (updateShipmentStatus): the caller's OAuth client id, shown to staff in the
-- order's timeline. Null for the saga's own events (created, cancelled).
ALTER TABLE "delivery_events" ADD COLUMN "actor" TEXT;
