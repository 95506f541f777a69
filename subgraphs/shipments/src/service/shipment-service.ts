import DataLoader from 'dataloader';
import { ErrorCode, appError, badInput, createEvent, isTextWithin, isUuid, requireScope, writeOutbox, type Viewer } from '@orderflow/common';
import type { Db, DeliveryEvent, Shipment, ShipmentStatus } from '../db.ts';
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

    /** Moves a shipment one step forward, appends a delivery event and publishes shipments.status_updated. */
    async updateStatus(viewer: Viewer | null, input: UpdateShipmentStatusInput): Promise<Shipment> {
      requireScope(viewer, 'shipments:write');
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
