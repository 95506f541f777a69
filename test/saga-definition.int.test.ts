import { readFileSync } from 'node:fs';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventSchemas, STREAMS, type EventType } from '@orderflow/contracts';
import { EVENTS_DOC_PATH, renderEventsDoc } from '../scripts/events-doc.ts';
import { ORDER_SAGA, declaredConsumers } from '../subgraphs/orders/src/saga/order-saga.ts';
import { startSystem, type System } from './support/system.ts';

/** The saga's one declaration (subgraphs/orders/src/saga/order-saga.ts) against its doc and the running system. */
describe('the order saga’s declaration', () => {
  it('is what schema/events/README.md says: otherwise run `npm run docs:events`', () => {
    expect(readFileSync(EVENTS_DOC_PATH, 'utf8')).toBe(renderEventsDoc());
  });

  it('is closed: every event a step waits for is emitted by a step, and every event type is emitted', () => {
    const emitted = new Set(ORDER_SAGA.flatMap((s) => s.emits));
    for (const step of ORDER_SAGA)
      if ('event' in step.starts)
        expect(emitted, `nothing emits what "${step.step}" waits for`).toContain(step.starts.event);
    for (const type of Object.keys(EventSchemas) as EventType[])
      expect(emitted, `no step emits ${type}`).toContain(type);
  });

  describe('on a running system', () => {
    let system: System;
    let nc: NatsConnection;
    beforeAll(async () => {
      system = await startSystem();
      nc = await connect(system.natsAdmin);
    });
    afterAll(async () => {
      await nc?.close();
      await system?.stop();
    });

    it('names exactly the durable consumers the services register, each on its declared subject', async () => {
      const jsm = await nc.jetstreamManager();
      const streamName = (n: string) => `${system.natsPrefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_')}_${n}`;
      const running = new Map<string, string>();
      for (const stream of STREAMS) {
        for (const info of await jsm.consumers.list(streamName(stream.name)).next())
          if (info.config.durable_name)
            running.set(
              info.config.durable_name,
              (info.config.filter_subject ?? '').replace(`${system.natsPrefix}.`, ''),
            );
      }
      const declared = Object.fromEntries([...declaredConsumers()].sort());
      expect(Object.fromEntries([...running].sort())).toEqual(declared);
    });
  });
});
