// npm run dlq -- list | show <seq> | replay <seq> | replay-all
// Inspects and replays the dead-letter stream. NATS_URL and NATS_PREFIX as for the services.
import { connectBus, getDeadLetter, listDeadLetters, replayDeadLetter } from '@orderflow/common/messaging';
import { createLogger } from '@orderflow/common/observability';

const [command = 'list', arg] = process.argv.slice(2);
const log = createLogger('dlq', 'warn');
// NATS_REPLICAS as for the services: connectBus declares the streams, and another count would change them.
const bus = await connectBus({
  url: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  // The operator's user (NATS_USER=admin): a replay publishes other services' subjects.
  user: process.env.NATS_USER,
  password: process.env.NATS_PASSWORD,
  prefix: process.env.NATS_PREFIX ?? '',
  name: 'dlq-cli',
  log,
  replicas: Number(process.env.NATS_REPLICAS ?? 1),
});

function seqArg(): number {
  const seq = Number(arg);
  if (!Number.isInteger(seq) || seq < 1) {
    console.error(`usage: npm run dlq -- ${command} <sequence number from "list">`);
    process.exit(2);
  }
  return seq;
}

try {
  switch (command) {
    case 'list': {
      const letters = await listDeadLetters(bus);
      if (letters.length === 0) console.log('The dead-letter stream is empty.');
      for (const l of letters)
        console.log(
          `${String(l.seq).padStart(6)}  ${l.time}  ${l.originalSubject}  ${l.consumer}  after ${l.deliveries} deliveries: ${l.error}`,
        );
      break;
    }
    case 'show': {
      const letter = await getDeadLetter(bus, seqArg());
      if (!letter) throw new Error(`No dead letter with sequence ${arg}`);
      let original: unknown = letter.original;
      try {
        original = JSON.parse(letter.original);
      } catch {
        /* not JSON: show as is */
      }
      console.log(JSON.stringify({ ...letter, original }, null, 2));
      break;
    }
    case 'replay': {
      const l = await replayDeadLetter(bus, seqArg());
      console.log(`replayed ${l.seq} on ${l.originalSubject}`);
      break;
    }
    case 'replay-all': {
      for (const l of await listDeadLetters(bus)) {
        await replayDeadLetter(bus, l.seq);
        console.log(`replayed ${l.seq} on ${l.originalSubject}`);
      }
      break;
    }
    default:
      console.error('usage: npm run dlq -- list | show <seq> | replay <seq> | replay-all');
      process.exitCode = 2;
  }
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  await bus.close();
}
