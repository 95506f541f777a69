import type { ExecutionResult } from 'graphql';
import type { HubEvent } from './event-hub.ts';

/**
 * One client subscription's stream of payloads: events in (ordered, each at
 * most once by stream sequence), payloads out, resolved one at a time so a
 * client receives the events of an order in order. The queue is bounded: a
 * client that cannot keep up is cut off (`onOverflow`) instead of growing the
 * gateway's memory. `return()` releases everything at once, even while a
 * `next()` is waiting (unlike an async generator, which would hold its NATS
 * interest until the next event).
 */
export class Feed implements AsyncIterableIterator<ExecutionResult> {
  private queue: HubEvent[] = [];
  private lastSeq: number;
  private waiting: (() => void) | null = null;
  private roomWaiters: (() => void)[] = [];
  private failure: Error | null = null;
  private done = false;

  constructor(
    private readonly opts: {
      afterSeq: number;
      maxQueue: number;
      resolve: (e: HubEvent) => Promise<ExecutionResult | null>;
      onOverflow: () => void;
      onClose: () => void;
    },
  ) {
    this.lastSeq = opts.afterSeq;
  }

  /** Adds an event; events at or below the last sequence already taken are dropped. */
  push(e: HubEvent): void {
    if (this.done || e.seq <= this.lastSeq) return;
    if (this.queue.length >= this.opts.maxQueue) {
      this.opts.onOverflow();
      void this.return();
      return;
    }
    this.lastSeq = e.seq;
    this.queue.push(e);
    this.waiting?.();
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
    while (!this.done && this.queue.length >= n) await new Promise<void>((r) => this.roomWaiters.push(r));
  }

  /** Ends the feed with `err` once the events already queued are delivered (the client gets it as an error message). */
  fail(err: Error): void {
    if (this.done) return;
    this.failure = err;
    this.waiting?.();
  }

  private wake() {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const r of waiters) r();
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    while (!this.done) {
      const e = this.queue.shift();
      if (e) this.wake();
      if (!e && this.failure) {
        const err = this.failure;
        await this.return();
        throw err;
      }
      if (!e) {
        await new Promise<void>((resolve) => (this.waiting = resolve));
        this.waiting = null;
        continue;
      }
      const result = await this.opts.resolve(e);
      if (result && !this.done) return { done: false, value: result };
    }
    return { done: true, value: undefined };
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    if (!this.done) {
      this.done = true;
      this.queue = [];
      this.opts.onClose();
      this.waiting?.();
      this.wake();
    }
    return { done: true, value: undefined };
  }

  async throw(err: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.return();
    throw err;
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}
