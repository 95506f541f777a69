// The NATS permissions (packages/contracts/src/nats-access.ts, pure: it cannot
// import the orders subgraph) against the saga's declaration
// (subgraphs/orders/src/saga/order-saga.ts): each declared consumer's service
// may consume its subject through its durable, and no service may consume
// through a durable the saga does not declare for it. Read from the
// permissions nats-server is given (`natsPermissions`), not only the table.
import { describe, expect, it } from 'vitest';
import { streamOf } from '@orderflow/contracts';
import {
  NATS_USERS,
  NATS_ACCESS,
  natsPermissions,
  natsStreamName,
  natsSubject,
  type NatsUser,
} from '@orderflow/contracts/nats-access';
import { ORDER_SAGA } from '../subgraphs/orders/src/saga/order-saga.ts';

/** The saga's event-started steps with a handler: owner, durable and the subject it consumes. */
const declared = ORDER_SAGA.flatMap((s) =>
  s.handler && 'event' in s.starts
    ? [{ user: s.owner as NatsUser, durable: `${s.owner}-${s.handler}`, type: s.starts.event }]
    : [],
);

/** The grants a consumer needs on its durable: look its consumer up, create it, pull, ack, dead-letter. */
function consumerGrants(prefix: string, durable: string, type: string): string[] {
  const st = natsStreamName(prefix, streamOf(type));
  return [
    `$JS.API.CONSUMER.INFO.${st}.${durable}`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${st}.${durable}`,
    `$JS.API.CONSUMER.MSG.NEXT.${st}.${durable}`,
    `$JS.ACK.${st}.${durable}.>`,
    natsSubject(prefix, `dlq.${type}`),
  ];
}

/** `<stream> <durable>` of every named durable a user may pull from (MSG.NEXT on a name, not `*`). */
function pullGrants(user: NatsUser, prefix: string): string[] {
  return natsPermissions(user, prefix)
    .publish.allow.map((s) => /^\$JS\.API\.CONSUMER\.MSG\.NEXT\.([^.]+)\.([^.*>]+)$/.exec(s))
    .flatMap((m) => (m ? [`${m[1]} ${m[2]}`] : []));
}

describe.each(['', 'tperm'])("NATS permissions against the saga's declaration (NATS_PREFIX '%s')", (prefix) => {
  it('let each declared consumer consume its subject, on the stream that holds it, through its durable', () => {
    const missing = declared.flatMap(({ user, durable, type }) => {
      const allowed = new Set(natsPermissions(user, prefix).publish.allow);
      return consumerGrants(prefix, durable, type)
        .filter((g) => !allowed.has(g))
        .map((g) => `${user} (${durable} on ${type}): ${g}`);
    });
    expect(missing).toEqual([]);
  });

  it('grant no consumer the saga does not declare, to no other service', () => {
    const expected = new Set(
      declared.map(({ user, durable, type }) => `${user} ${natsStreamName(prefix, streamOf(type))} ${durable}`),
    );
    const granted = NATS_USERS.flatMap((user) => pullGrants(user, prefix).map((g) => `${user} ${g}`));
    expect(granted.filter((g) => !expected.has(g))).toEqual([]);
    expect([...expected].filter((g) => !granted.includes(g))).toEqual([]);
    // The table itself names the same durables with the same subjects.
    const table = NATS_USERS.flatMap((user) =>
      Object.entries(NATS_ACCESS[user].consumes).map(([handler, type]) => `${user}-${handler} ${type}`),
    );
    expect(table.sort()).toEqual(declared.map((d) => `${d.durable} ${d.type}`).sort());
  });

  it('deny a service that follows a stream every durable of the saga on it', () => {
    const leaks = NATS_USERS.flatMap((user) => {
      const follows = new Set(NATS_ACCESS[user].follows.map((t) => streamOf(t)));
      const deny = new Set(natsPermissions(user, prefix).publish.deny);
      return declared
        .filter((d) => d.user !== user && follows.has(streamOf(d.type)))
        .filter((d) => !deny.has(`$JS.API.CONSUMER.MSG.NEXT.${natsStreamName(prefix, streamOf(d.type))}.${d.durable}`))
        .map((d) => `${user} may pull from ${d.durable}`);
    });
    expect(leaks).toEqual([]);
  });
});
