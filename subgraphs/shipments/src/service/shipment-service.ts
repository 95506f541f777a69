import { randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import { modelRow, type Sql } from '@orderflow/common/db';
import { createEvent, publishingTransaction, writeOutbox } from '@orderflow/common/messaging';
import { appError, badInput, type Viewer } from '@orderflow/common/server';
import { ErrorCode, isTextWithin, isUuid, type EventEnvelope } from '@orderflow/contracts';
import type { Db, DeliveryEvent, Shipment, ShipmentStatus } from '../db.ts';
import { carrierFor, newTrackingNumber } from '../domain/carrier.ts';
import { isValidTransition, previousStatus } from '../domain/shipment-status.ts';
import { createShipmentTimelineLoader } from './shipment-timeline.ts';

export interface UpdateShipmentStatusInput {
  shipmentId: string;
  status: ShipmentStatus;
  location?: string | null;
  description?: string | null;
}

// The hot paths' writes are plain SQL on pg (`publishingTransaction`, the consumer's
// `Sql`); reads stay on Prisma. A data-modifying CTE runs whether or not the
// outer query reads it, in the statement's one snapshot: the delivery event is
// written by the same statement as the shipment row it belongs to (its foreign
// key is checked at the end of that statement).

/**
 * A paid order's PROCESSING shipment and its first delivery event; no row when
 * the order has a shipment already (a redelivery, or a cancel's placeholder).
 * $1 id, $2 order id, $3 customer id, $4 tracking number, $5 carrier.
 */
const CREATE_SQL = `
WITH created AS (
  INSERT INTO shipments (id, order_id, customer_id, tracking_number, carrier, status)
  VALUES ($1::uuid, $2::uuid, $3::text, $4::text, $5::text, 'PROCESSING')
  ON CONFLICT (order_id) DO NOTHING
  RETURNING *
), logged AS (
  INSERT INTO delivery_events (shipment_id, status, description)
  SELECT id, status, 'Shipment created; preparing for dispatch' FROM created
)
SELECT * FROM created`;

/**
 * One step forward: the shipment as read (`seen_status`) and, when it was in
 * $3 (the one status the domain allows a move to $2 from) and still is, the
 * moved row with its delivery event written. As with a SELECT then an UPDATE,
 * a move or cancel in flight when the statement starts makes the conditional
 * UPDATE wait for it and then match nothing, while `seen_status` shows the
 * status before it. No row: no such shipment.
 * $1 id, $2 new status, $3 required status, $4 location, $5 description, $6 actor.
 */
const MOVE_SQL = `
WITH seen AS (
  SELECT id, status FROM shipments WHERE id = $1::uuid
), moved AS (
  UPDATE shipments SET status = $2::shipment_status, updated_at = now(),
    delivered_at = CASE WHEN $2::shipment_status = 'DELIVERED' THEN now() ELSE delivered_at END
  WHERE id = $1::uuid AND status = $3::shipment_status
  RETURNING *
), logged AS (
  INSERT INTO delivery_events (shipment_id, status, location, description, actor)
  SELECT id, status, $4::text, $5::text, $6::text FROM moved
)
SELECT seen.status AS seen_status, moved.* FROM seen LEFT JOIN moved ON moved.id = seen.id`;

/** A placeholder CANCELLED shipment for an order that has none yet. $1 id, $2 order id, $3 tracking number, $4 carrier. */
const PLACEHOLD_SQL = `
INSERT INTO shipments (id, order_id, customer_id, tracking_number, carrier, status)
VALUES ($1::uuid, $2::uuid, '', $3::text, $4::text, 'CANCELLED')
ON CONFLICT (order_id) DO NOTHING`;

/** Cancels the order's shipment if it is still PROCESSING, with its delivery event; returns its id. $1 order id, $2 reason. */
const CANCEL_SQL = `
WITH cancelled AS (
  UPDATE shipments SET status = 'CANCELLED', updated_at = now()
  WHERE order_id = $1::uuid AND status = 'PROCESSING'
  RETURNING id
)
INSERT INTO delivery_events (shipment_id, status, description)
SELECT id, 'CANCELLED'::shipment_status, $2::text FROM cancelled
RETURNING shipment_id`;

export function createShipmentService({
  db,
  afterCommit = () => {},
}: {
  db: Db;
  /** After a commit that wrote events, with them (the relay's afterCommit). */ afterCommit?: (
    events: EventEnvelope[],
  ) => void;
}) {
  const canSee = (viewer: Viewer, s: Shipment) =>
    s.customerId === viewer.id || (viewer.scopes.has('shipments:read') && viewer.scopes.has('orders:read:all'));

  return {
    async findVisible(viewer: Viewer | null, id: string): Promise<Shipment | null> {
      if (!viewer) return null;
      if (!isUuid(id)) throw badInput('id is not a valid shipment id', 'id');
      const s = await db.shipment.findUnique({ where: { id } });
      return s && canSee(viewer, s) ? s : null;
    },

    /**
     * Moves a shipment one step forward, appends a delivery event (with `actor`, the caller's client id) and
     * publishes shipments.status_updated.
     * shipments:write is @requiresScopes on Mutation.updateShipmentStatus, its only caller.
     */
    async updateStatus(input: UpdateShipmentStatusInput, actor: string | null = null): Promise<Shipment> {
      if (!isUuid(input.shipmentId)) throw badInput('shipmentId is not a valid shipment id', 'shipmentId');
      if (input.location != null && !isTextWithin(input.location, 0, 200))
        throw badInput('location must be at most 200 characters', 'location');
      if (input.description != null && !isTextWithin(input.description, 0, 500))
        throw badInput('description must be at most 500 characters', 'description');
      const result = await publishingTransaction(
        db,
        async (tx) => {
          const {
            rows: [row],
          } = await tx.query<Record<string, unknown> & { seen_status: ShipmentStatus }>(MOVE_SQL, [
            input.shipmentId,
            input.status,
            previousStatus(input.status),
            input.location ?? null,
            input.description ?? null,
            actor,
          ]);
          if (!row) throw appError(ErrorCode.NOT_FOUND, 'Shipment not found');
          const { seen_status: from, ...moved } = row;
          if (!isValidTransition(from, input.status))
            throw appError(ErrorCode.INVALID_TRANSITION, `A shipment cannot move from ${from} to ${input.status}`, {
              from,
              to: input.status,
            });
          if (moved.id === null)
            throw appError(ErrorCode.INVALID_TRANSITION, 'The shipment changed concurrently; reload and retry');
          const updated = modelRow<Shipment>(moved);
          await writeOutbox(
            tx,
            createEvent({
              type: 'shipments.status_updated',
              source: 'shipments',
              correlationId: updated.orderId,
              data: {
                shipmentId: updated.id,
                orderId: updated.orderId,
                previousStatus: from,
                status: input.status,
                location: input.location ?? null,
              },
            }),
          );
          return updated;
        },
        afterCommit,
      );
      return result;
    },

    /**
     * Creates the PROCESSING shipment of a paid order, inside the consumer's
     * transaction. The unique order id makes it once-only, and makes it lose
     * cleanly against a cancel that got there first (which leaves a
     * CANCELLED shipment in its place).
     */
    async createForOrder(
      tx: Sql,
      { orderId, customerId }: { orderId: string; customerId: string },
      causationId: string,
    ): Promise<Shipment | null> {
      const carrier = carrierFor(orderId);
      const {
        rows: [created],
      } = await tx.query(CREATE_SQL, [
        randomUUID(),
        orderId,
        customerId,
        newTrackingNumber(carrier.prefix),
        carrier.name,
      ]);
      if (!created) return null;
      const shipment = modelRow<Shipment>(created);
      await writeOutbox(
        tx,
        createEvent({
          type: 'shipments.created',
          source: 'shipments',
          correlationId: orderId,
          causationId,
          data: { shipmentId: shipment.id, orderId, trackingNumber: shipment.trackingNumber, carrier: carrier.name },
        }),
      );
      return shipment;
    },

    /**
     * The arbiter between a customer's cancel and a dispatch, inside the
     * consumer's transaction of an orders.cancel_requested: only a PROCESSING
     * shipment (or none yet) can be cancelled, by the same kind of conditional
     * update that moves it to SHIPPED, so exactly one wins. A cancel that wins
     * writes `shipments.cancelled` (and leaves a CANCELLED shipment, so a late
     * creation loses); one that loses writes `shipments.cancel_refused`. The
     * orders service completes the order's side from either.
     */
    async cancelForOrder(
      tx: Sql,
      { orderId, requestId, reason }: { orderId: string; requestId: string; reason: string },
      causationId: string,
    ): Promise<{ status: 'cancelled' } | { status: 'refused'; shipmentStatus: ShipmentStatus }> {
      const cancelledEvent = (shipmentId: string, previousStatus: 'PROCESSING' | null) =>
        createEvent({
          type: 'shipments.cancelled',
          source: 'shipments',
          correlationId: orderId,
          causationId,
          data: { shipmentId, orderId, previousStatus, reason, requestId },
        });
      const carrier = carrierFor(orderId);
      const placeholderId = randomUUID();
      // No shipment yet: leave a cancelled one, so a late creation loses.
      const placeheld = await tx.query(PLACEHOLD_SQL, [
        placeholderId,
        orderId,
        newTrackingNumber(carrier.prefix),
        carrier.name,
      ]);
      if (placeheld.rowCount === 1) {
        await writeOutbox(tx, cancelledEvent(placeholderId, null));
        return { status: 'cancelled' };
      }
      // A statement of its own: a shipment the insert waited for (created concurrently) is seen only by a later statement's snapshot.
      const {
        rows: [cancelled],
      } = await tx.query<{ shipment_id: string }>(CANCEL_SQL, [orderId, reason]);
      if (cancelled) {
        await writeOutbox(
          tx,
          createEvent({
            type: 'shipments.status_updated',
            source: 'shipments',
            correlationId: orderId,
            causationId,
            data: {
              shipmentId: cancelled.shipment_id,
              orderId,
              previousStatus: 'PROCESSING',
              status: 'CANCELLED',
              location: null,
            },
          }),
          cancelledEvent(cancelled.shipment_id, 'PROCESSING'),
        );
        return { status: 'cancelled' };
      }
      // Again a statement of its own, so that it sees a dispatch the UPDATE waited for and lost to.
      const {
        rows: [current],
      } = await tx.query<{ id: string; status: ShipmentStatus }>(
        `SELECT id::text, status FROM shipments WHERE order_id = $1::uuid`,
        [orderId],
      );
      if (!current) throw new Error(`shipment of order ${orderId} not found`);
      if (current.status === 'CANCELLED') {
        // Cancelled by an earlier request: answer this one the same way (orders applies a cancel once).
        await writeOutbox(tx, cancelledEvent(current.id, null));
        return { status: 'cancelled' };
      }
      await writeOutbox(
        tx,
        createEvent({
          type: 'shipments.cancel_refused',
          source: 'shipments',
          correlationId: orderId,
          causationId,
          data: { orderId, requestId, shipmentId: current.id, shipmentStatus: current.status },
        }),
      );
      return { status: 'refused', shipmentStatus: current.status };
    },

    createLoaders() {
      return {
        timeline: createShipmentTimelineLoader(db),
        byOrder: new DataLoader<string, Shipment | null>(async (orderIds) => {
          const rows = await db.shipment.findMany({ where: { orderId: { in: orderIds.filter(isUuid) } } });
          const byOrder = new Map(rows.map((r) => [r.orderId, r]));
          return orderIds.map((id) => byOrder.get(id) ?? null);
        }),
        byId: new DataLoader<string, Shipment | null>(async (ids) => {
          const rows = await db.shipment.findMany({ where: { id: { in: ids.filter(isUuid) } } });
          const byId = new Map(rows.map((r) => [r.id, r]));
          return ids.map((id) => byId.get(id) ?? null);
        }),
        events: new DataLoader<string, DeliveryEvent[]>(async (shipmentIds) => {
          const rows = await db.deliveryEvent.findMany({
            where: { shipmentId: { in: [...shipmentIds] } },
            orderBy: { id: 'asc' },
          });
          const groups = new Map<string, DeliveryEvent[]>();
          for (const r of rows) groups.set(r.shipmentId, [...(groups.get(r.shipmentId) ?? []), r]);
          return shipmentIds.map((id) => groups.get(id) ?? []);
        }),
      };
    },
    canSee,
  };
}
export type ShipmentService = ReturnType<typeof createShipmentService>;
