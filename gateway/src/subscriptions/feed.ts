import type { ExecutionResult } from 'graphql';
import type { HubEvent } from './event-hub.ts';

/** What a feed asks of its owner: a payload for each event, and word of an overflow and of its end. */
export interface FeedHooks {
  /** The payload of one event for this subscriber, or null to skip the event. */
  resolve(e: HubEvent): Promise<ExecutionResult | null>;
  /** The queue is full: the subscriber does not keep up (the feed ends right after). */
  onOverflow(): void;
  /** The feed ended (completed, overflowed, failed, or the socket closed): release what it holds. */
  onClose(): void;
}

const DONE: IteratorResult<ExecutionResult> = Object.freeze({ done: true, value: undefined });
const NO_EVENTS: readonly HubEvent[] = Object.freeze([]);

/**
 * One client subscription's stream of payloads: events in (ordered, each at
 * most once by stream sequence), payloads out, resolved one at a time so a
 * client receives the events of an order in order. The queue is bounded: a
 * client that cannot keep up is cut off (`onOverflow`) instead of growing the
 * gateway's memory. `return()` releases everything at once, even while a
 * `next()` is waiting (unlike an async generator, which would hold its NATS
 * interest until the next event).
 *
 * An idle feed holds little: `next()` waits on one plain promise (not a
 * suspended async function with its registers), and the queue and the
 * replay's waiters are allocated only when used. The hooks are either given
 * (`new Feed({ afterSeq, maxQueue, resolve, onOverflow, onClose })`) or a
 * subclass's own methods (`super({ afterSeq, maxQueue })`): a subscription
 * that is a Feed holds no closures of its own.
 */
export class Feed implements AsyncIterableIterator<ExecutionResult> {
  private queue: HubEvent[] = NO_EVENTS as HubEvent[];
  private lastSeq: number;
  private readonly maxQueue: number;
  private readonly hooks: FeedHooks | null;
  /** The pending `next()`'s resolve function, while it waits for an event. */
  private waiting: ((r: IteratorResult<ExecutionResult> | Promise<IteratorResult<ExecutionResult>>) => void) | null =
    null;
  private roomWaiters: (() => void)[] | null = null;
  private failure: Error | null = null;
  private done = false;

  constructor(opts: { afterSeq: number; maxQueue: number } & Partial<FeedHooks>) {
    this.lastSeq = opts.afterSeq;
    this.maxQueue = opts.maxQueue;
    this.hooks = opts.resolve && opts.onOverflow && opts.onClose ? (opts as FeedHooks) : null;
  }

  /** The payload of one event (a subclass overrides it, or it is the hook given). */
  protected resolve(e: HubEvent): Promise<ExecutionResult | null> {
    return this.hooks ? this.hooks.resolve(e) : Promise.resolve(null);
  }

  protected onOverflow(): void {
    this.hooks?.onOverflow();
  }

  protected onClose(): void {
    this.hooks?.onClose();
  }

  /** Adds an event; events at or below the last sequence already taken are dropped. */
  push(e: HubEvent): void {
    if (this.done || e.seq <= this.lastSeq) return;
    if (this.queue.length >= this.maxQueue) {
      this.onOverflow();
      void this.return();
      return;
    }
    this.lastSeq = e.seq;
    if (this.queue === NO_EVENTS) this.queue = [];
    this.queue.push(e);
    this.deliver();
  }

  get pending(): number {
    return this.queue.length;
  }

  /**
   * Resolves once fewer than `n` events wait, or the feed has ended: a
   * replay reads the stream no faster than the client is served, instead of
   * overflowing the queue with the past.
   */
  async room(n: number): Promise<void> {
    while (!this.done && this.queue.length >= n) await new Promise<void>((r) => (this.roomWaiters ??= []).push(r));
  }

  /** Ends the feed with `err` once the events already queued are delivered (the client gets it as an error message). */
  fail(err: Error): void {
    if (this.done) return;
    this.failure = err;
    this.deliver();
  }

  /** Answers the `next()` waiting, if one is: with the next payload, or the end. */
  private deliver(end = false) {
    const waiting = this.waiting;
    if (!waiting) return;
    this.waiting = null;
    waiting(end ? DONE : this.pull());
  }

  private wake() {
    const waiters = this.roomWaiters;
    if (!waiters) return;
    this.roomWaiters = null;
    for (const r of waiters) r();
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.done) return Promise.resolve(DONE);
    if (this.queue.length || this.failure) return this.pull();
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** Delivers the next event's payload (skipping events that give none), or waits for one. */
  private async pull(): Promise<IteratorResult<ExecutionResult>> {
    while (!this.done) {
      const e = this.queue.shift();
      if (e) {
        this.wake();
        const result = await this.resolve(e);
        if (result && !this.done) return { done: false, value: result };
        continue;
      }
      if (this.failure) {
        const err = this.failure;
        await this.return();
        throw err;
      }
      return this.next();
    }
    return DONE;
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    if (!this.done) {
      this.done = true;
      this.queue = NO_EVENTS as HubEvent[];
      this.onClose();
      this.deliver(true);
      this.wake();
    }
    return DONE;
  }

  async throw(err: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.return();
    throw err;
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}
