import { randomBytes } from 'node:crypto';
import { AckPolicy, DeliverPolicy } from 'nats';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { connectBus, createEventConsumer, type Bus, type EventConsumer } from '@orderflow/common/messaging';
import { createLogger } from '@orderflow/common/observability';
import { eventually } from './support/system.ts';
import { natsAdminOptions } from './support/nats-auth.ts';

// Found by the fault suite (test/chaos): on nats-server 2.9, Debian's, a message
// terminated with a reason ("+TERM <reason>") is not terminated at all and
// comes back after ack_wait, so every dead letter was retried for ever.
describe('a dead-lettered message', () => {
  let bus: Bus;
  let consumer: EventConsumer;
  afterAll(async () => {
    await consumer?.stop();
    await bus?.close();
  });

  it('is never delivered again', async () => {
    const log = createLogger('dead-letter-test', 'silent');
    // The operator's user: this test declares a consumer of its own, which no service's user may.
    const admin = natsAdminOptions(inject('natsUrl'));
    bus = await connectBus({
      url: inject('natsUrl'),
      user: admin.user,
      password: admin.pass,
      prefix: `dl${randomBytes(4).toString('hex')}`,
      name: 'dead-letter-test',
      log,
    });
    const jsm = await bus.nc.jetstreamManager();
    // The durable the consumer would create, with a 1 s ack wait instead of 30 s: a redelivery would come within the test.
    await jsm.consumers.add(bus.stream('ORDERS'), {
      durable_name: 'test-poison',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: bus.subject('orders.created'),
      ack_wait: 1_000_000_000,
    });
    consumer = createEventConsumer({
      bus,
      db: {},
      log,
      service: 'test',
      handler: { name: 'poison', type: 'orders.created', schema: z.unknown(), handle: async () => {} },
    });
    await consumer.init();
    consumer.start();

    await bus.js.publish(bus.subject('orders.created'), 'not json');
    await eventually(async () => (await jsm.streams.info(bus.stream('DLQ'))).state.messages === 1);
    await new Promise((r) => setTimeout(r, 3_000));
    const info = await jsm.consumers.info(bus.stream('ORDERS'), 'test-poison');
    expect({ deliveries: info.delivered.consumer_seq, unacknowledged: info.num_ack_pending }).toEqual({
      deliveries: 1,
      unacknowledged: 0,
    });
  });
});
