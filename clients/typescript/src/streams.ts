/**
 * A request's events as an async iterator, for `for await`: events are buffered until read, the
 * iterator ends after the terminal frame or throws its failure, and leaving the loop early (`break`,
 * `return`, a throw: the iterator's `return()`) tells the client to cancel the request.
 */

export class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private readonly waiting: Array<{
    resolve: (result: IteratorResult<T, undefined>) => void;
    reject: (error: unknown) => void;
  }> = [];
  private ended = false;
  private failure: { error: unknown } | null = null;

  /** `onReturn` runs once when the consumer leaves before the end. */
  constructor(private readonly onReturn: () => void) {}

  /** Whether the stream has ended (terminal frame, failure or return). */
  get done(): boolean {
    return this.ended;
  }

  push(item: T): void {
    if (this.ended) return;
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter.resolve({ value: item, done: false });
    else this.buffer.push(item);
  }

  /** The request ended; buffered events are still read first. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const waiter of this.waiting.splice(0)) waiter.resolve({ value: undefined, done: true });
  }

  /** The request failed; buffered events are still read, then the error is thrown. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = { error };
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift() as T, done: false });
    if (this.failure !== null) {
      const { error } = this.failure;
      this.failure = null; // thrown once; then the iterator is done
      return Promise.reject(error);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T, undefined>> {
    if (!this.ended) {
      this.ended = true;
      this.onReturn();
      for (const waiter of this.waiting.splice(0)) waiter.resolve({ value: undefined, done: true });
    }
    this.buffer.length = 0;
    this.failure = null;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
