/**
 * Listeners for events that belong to no request of this connection (pushes, other connections'
 * requests) and for the client's status. A listener that throws is reported and skipped: it never
 * stops the others, nor the dispatch of the next frame.
 */

export type Unsubscribe = () => void;

export class Listeners<K, F extends (...args: never[]) => void> {
  private readonly byKey = new Map<K, Set<F>>();

  constructor(private readonly report: (error: unknown) => void) {}

  add(key: K, listener: F): Unsubscribe {
    let set = this.byKey.get(key);
    if (set === undefined) {
      set = new Set();
      this.byKey.set(key, set);
    }
    // A function added twice is two subscriptions: wrap it so each unsubscribe removes its own.
    const own = ((...args: Parameters<F>) => listener(...args)) as F;
    set.add(own);
    return () => {
      const current = this.byKey.get(key);
      if (current === undefined) return;
      current.delete(own);
      if (current.size === 0) this.byKey.delete(key);
    };
  }

  /** Calls every listener of `key`, isolating their failures. Returns how many were called. */
  emit(key: K, ...args: Parameters<F>): number {
    const set = this.byKey.get(key);
    if (set === undefined) return 0;
    let called = 0;
    for (const listener of [...set]) {
      called += 1;
      try {
        const result: unknown = listener(...args);
        // An async listener's rejection is reported too, never left unhandled.
        if (result instanceof Promise) result.catch(this.report);
      } catch (error) {
        this.report(error);
      }
    }
    return called;
  }
}
