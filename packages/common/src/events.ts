import { randomUUID } from 'node:crypto';

/** The envelope of every event (shared/contract/events.md). */
export interface EventEnvelope<T = unknown> {
  id: string;
  type: string;
  version: number;
  occurredAt: string;
  source: string;
  correlationId: string;
  causationId: string | null;
  traceparent: string | null;
  data: T;
}

export function createEvent<T>({
  type,
  source,
  correlationId,
  causationId = null,
  traceparent = null,
  data,
  version = 1,
}: {
  type: string;
  source: string;
  correlationId: string;
  causationId?: string | null;
  traceparent?: string | null;
  data: T;
  version?: number;
}): EventEnvelope<T> {
  return { id: randomUUID(), type, version, occurredAt: new Date().toISOString(), source, correlationId, causationId, traceparent, data };
}

/** Writes an event into the outbox table inside the caller's transaction. */
export async function writeOutbox(
  tx: { outboxEvent: { createMany(args: { data: { id: string; subject: string; payload: object }[] }): Promise<unknown> } },
  ...events: EventEnvelope[]
): Promise<void> {
  if (events.length === 0) return;
  await tx.outboxEvent.createMany({ data: events.map((e) => ({ id: e.id, subject: e.type, payload: e as unknown as object })) });
}
