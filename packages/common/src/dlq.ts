import { headers as natsHeaders } from 'nats';
import type { Bus } from './nats.ts';

/** A dead-lettered message as consumers write it (see consumer.ts). */
export interface DeadLetter {
  seq: number;
  subject: string;
  time: string;
  original: string;
  originalSubject: string;
  error: string;
  deliveries: number;
  consumer: string;
}

/** Every message in the dead-letter stream, oldest first. */
export async function listDeadLetters(bus: Bus, limit = 1_000): Promise<DeadLetter[]> {
  const jsm = await bus.nc.jetstreamManager();
  const stream = bus.stream('DLQ');
  const info = await jsm.streams.info(stream);
  const out: DeadLetter[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && out.length < limit; seq++) {
    const letter = await getDeadLetter(bus, seq);
    if (letter) out.push(letter);
  }
  return out;
}

export async function getDeadLetter(bus: Bus, seq: number): Promise<DeadLetter | null> {
  const jsm = await bus.nc.jetstreamManager();
  try {
    const m = await jsm.streams.getMessage(bus.stream('DLQ'), { seq });
    const body = m.json<{ original: string; subject: string; error: string; deliveries: number; consumer: string }>();
    return {
      seq,
      subject: m.subject,
      time: m.time.toISOString(),
      original: body.original,
      originalSubject: body.subject,
      error: body.error,
      deliveries: body.deliveries,
      consumer: body.consumer,
    };
  } catch {
    return null; // deleted (replayed) or purged
  }
}

/**
 * Publishes a dead letter's original message again on its original subject,
 * then removes it from the dead-letter stream. Consumers that already
 * handled the event skip it (inbox); the one that failed gets another go.
 */
export async function replayDeadLetter(bus: Bus, seq: number): Promise<DeadLetter> {
  const letter = await getDeadLetter(bus, seq);
  if (!letter) throw new Error(`No dead letter with sequence ${seq}`);
  const h = natsHeaders();
  const msgID = `replay:${letter.consumer}:${seq}`;
  h.set('Nats-Msg-Id', msgID);
  await bus.js.publish(letter.originalSubject, letter.original, { msgID, headers: h });
  const jsm = await bus.nc.jetstreamManager();
  await jsm.streams.deleteMessage(bus.stream('DLQ'), seq);
  return letter;
}
