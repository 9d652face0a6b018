/**
 * Reconnect delays: full-jitter exponential backoff (a uniformly random wait between 0 and
 * min(max, initial * 2^attempt)), so that a thousand clients dropped by one restart do not all come
 * back in the same millisecond.
 */

export interface BackoffOptions {
  /** The ceiling of the first wait, in milliseconds. Default 500. */
  readonly initial?: number;
  /** The largest ceiling, in milliseconds. Default 20000. */
  readonly max?: number;
}

export class Backoff {
  readonly initial: number;
  readonly max: number;
  private attempt = 0;

  constructor(options: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.initial = Math.max(0, options.initial ?? 500);
    this.max = Math.max(this.initial, options.max ?? 20_000);
  }

  /** The ceiling of the wait before attempt `attempt` (0-based). */
  ceiling(attempt: number): number {
    // 2 ** 1100 is Infinity; min() keeps it at max.
    return Math.min(this.max, this.initial * 2 ** attempt);
  }

  /** The next wait, in milliseconds; each call counts one more failed attempt. */
  next(): number {
    const wait = Math.floor(this.random() * this.ceiling(this.attempt));
    this.attempt += 1;
    return wait;
  }

  /** How many waits were handed out since the last success. */
  get attempts(): number {
    return this.attempt;
  }

  /** A connection opened: the next loss starts from the smallest ceiling again. */
  reset(): void {
    this.attempt = 0;
  }
}
