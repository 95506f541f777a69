import { randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import { ErrorCode, appError, badInput, createEvent, isTextWithin, isUuid, writeOutbox, type Viewer } from '@orderflow/common';
import type { Db, DeliveryEvent, Shipment, ShipmentStatus, Tx } from '../db.ts';
import { carrierFor, newTrackingNumber } from '../domain/carrier.ts';
import { isValidTransition } from '../domain/shipment-status.ts';

export interface UpdateShipmentStatusInput {
  shipmentId: string;
  status: ShipmentStatus;
  location?: string | null;
  description?: string | null;
}

export function createShipmentService({ db, onEvents = () => {} }: { db: Db; onEvents?: () => void }) {
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
     * Moves a shipment one step forward, appends a delivery event and publishes shipments.status_updated.
     * shipments:write is @requiresScopes on Mutation.updateShipmentStatus, its only caller.
     */
    async updateStatus(input: UpdateShipmentStatusInput): Promise<Shipment> {
      if (!isUuid(input.shipmentId)) throw badInput('shipmentId is not a valid shipment id', 'shipmentId');
      if (input.location != null && !isTextWithin(input.location, 0, 200)) throw badInput('location must be at most 200 characters', 'location');
      if (input.description != null && !isTextWithin(input.description, 0, 500)) throw badInput('description must be at most 500 characters', 'description');
      const result = await db.$transaction(async (tx) => {
        const current = await tx.shipment.findUnique({ where: { id: input.shipmentId } });
        if (!current) throw appError(ErrorCode.NOT_FOUND, 'Shipment not found');
        if (!isValidTransition(current.status, input.status))
          throw appError(ErrorCode.INVALID_TRANSITION, `A shipment cannot move from ${current.status} to ${input.status}`, { from: current.status, to: input.status });
        const updated = await tx.shipment.updateManyAndReturn({
          where: { id: current.id, status: current.status },
          data: { status: input.status, ...(input.status === 'DELIVERED' ? { deliveredAt: new Date() } : {}) },
        });
        if (updated.length === 0) throw appError(ErrorCode.INVALID_TRANSITION, 'The shipment changed concurrently; reload and retry');
        await tx.deliveryEvent.create({ data: { shipmentId: current.id, status: input.status, location: input.location ?? null, description: input.description ?? null } });
        await writeOutbox(
          tx,
          createEvent({
            type: 'shipments.status_updated',
            source: 'shipments',
            correlationId: current.orderId,
            data: { shipmentId: current.id, orderId: current.orderId, previousStatus: current.status, status: input.status, location: input.location ?? null },
          }),
        );
        return updated[0];
      });
      onEvents();
      return result;
    },

    /**
     * Creates the PROCESSING shipment of a paid order, inside the consumer's
     * transaction. The unique order id makes it once-only, and makes it lose
     * cleanly against a cancel that got there first (which leaves a
     * CANCELLED shipment in its place).
     */
    async createForOrder(tx: Tx, { orderId, customerId }: { orderId: string; customerId: string }, causationId: string): Promise<Shipment | null> {
      const carrier = carrierFor(orderId);
      const id = randomUUID();
      const inserted = await tx.$executeRawUnsafe(
        `INSERT INTO shipments (id, order_id, customer_id, tracking_number, carrier, status) VALUES ($1::uuid, $2::uuid, $3, $4, $5, 'PROCESSING')
         ON CONFLICT (order_id) DO NOTHING`,
        id,
        orderId,
        customerId,
        newTrackingNumber(carrier.prefix),
        carrier.name,
      );
      if (inserted === 0) return null;
      await tx.deliveryEvent.create({ data: { shipmentId: id, status: 'PROCESSING', description: 'Shipment created; preparing for dispatch' } });
      const shipment = await tx.shipment.findUniqueOrThrow({ where: { id } });
      await writeOutbox(
        tx,
        createEvent({ type: 'shipments.created', source: 'shipments', correlationId: orderId, causationId, data: { shipmentId: id, orderId, trackingNumber: shipment.trackingNumber, carrier: carrier.name } }),
      );
      return shipment;
    },

    /**
     * The arbiter between a customer's cancel and a dispatch: only a
     * PROCESSING shipment (or none yet) can be cancelled, by the same kind
     * of conditional update that moves it to SHIPPED, so exactly one wins.
     * A cancel that wins writes `shipments.cancelled` in its transaction: the
     * orders service completes the order's cancel from it even if its own
     * transaction after this call never commits (a crash, a database blip).
     */
    async cancelForOrder(orderId: string, reason: string): Promise<{ status: 'cancelled' } | { status: 'too-late'; shipmentStatus: ShipmentStatus }> {
      const cancelledEvent = (shipmentId: string, previousStatus: 'PROCESSING' | null) =>
        createEvent({ type: 'shipments.cancelled', source: 'shipments', correlationId: orderId, data: { shipmentId, orderId, previousStatus, reason } });
      const result = await db.$transaction(async (tx) => {
        const carrier = carrierFor(orderId);
        const placeholderId = randomUUID();
        // No shipment yet: leave a cancelled one, so a late creation loses.
        const placeheld = await tx.$executeRawUnsafe(
          `INSERT INTO shipments (id, order_id, customer_id, tracking_number, carrier, status) VALUES ($1::uuid, $2::uuid, '', $3, $4, 'CANCELLED')
           ON CONFLICT (order_id) DO NOTHING`,
          placeholderId,
          orderId,
          newTrackingNumber(carrier.prefix),
          carrier.name,
        );
        if (placeheld === 1) {
          await writeOutbox(tx, cancelledEvent(placeholderId, null));
          return { status: 'cancelled' as const, published: true };
        }
        const [cancelled] = await tx.shipment.updateManyAndReturn({ where: { orderId, status: 'PROCESSING' }, data: { status: 'CANCELLED' } });
        if (cancelled) {
          await tx.deliveryEvent.create({ data: { shipmentId: cancelled.id, status: 'CANCELLED', description: reason } });
          await writeOutbox(
            tx,
            createEvent({ type: 'shipments.status_updated', source: 'shipments', correlationId: orderId, data: { shipmentId: cancelled.id, orderId, previousStatus: 'PROCESSING', status: 'CANCELLED', location: null } }),
            cancelledEvent(cancelled.id, 'PROCESSING'),
          );
          return { status: 'cancelled' as const, published: true };
        }
        const current = await tx.shipment.findUniqueOrThrow({ where: { orderId } });
        return current.status === 'CANCELLED' ? { status: 'cancelled' as const, published: false } : { status: 'too-late' as const, shipmentStatus: current.status, published: false };
      });
      if (result.published) onEvents();
      return result.status === 'cancelled' ? { status: 'cancelled' } : { status: 'too-late', shipmentStatus: result.shipmentStatus! };
    },

    createLoaders() {
      return {
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
          const rows = await db.deliveryEvent.findMany({ where: { shipmentId: { in: [...shipmentIds] } }, orderBy: { id: 'asc' } });
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
