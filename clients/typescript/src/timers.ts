/**
 * The clock every timer of the client goes through, so that tests drive time by hand instead of
 * sleeping, and so that a Node timer never keeps a process alive on its own account.
 */

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout(callback, ms) {
    const handle: unknown = globalThis.setTimeout(callback, ms);
    return handle;
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as number);
  },
};
