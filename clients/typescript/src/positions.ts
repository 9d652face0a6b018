/**
 * Where each stream stands for the application: the last offset handed to it, with its epoch. It
 * decides for each event that carries a stream position whether the application gets it or already
 * had it, so that an event replayed by a resume and also received live is delivered once. While a
 * resume runs it holds every positioned event back: the server sends the events that arrived live on
 * the new connection first and the older missed ones after them, so only at the resume's end can each
 * stream's events be put in offset order.
 */

import type { LostStream, Position, StreamPosition } from "./frames.js";

/** What becomes of one positioned event: hand it out, drop it (already handed out), or hold it. */
export type Verdict = "deliver" | "duplicate" | "held";

/** A held event; `item` null when it already went to a request of this client and only marks its offset as passed. */
interface Held<T> {
  readonly mark: StreamPosition;
  readonly item: T | null;
  readonly arrival: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A frame's `stream` member when it is a well-formed position, else null (such an event is not tracked). */
export function positionOf(value: unknown): StreamPosition | null {
  if (!isObject(value)) return null;
  const { name, epoch, offset } = value;
  if (typeof name !== "string" || typeof epoch !== "string" || !Number.isSafeInteger(offset)) return null;
  return { name, epoch, offset: offset as number };
}

/** The streams an `unrecoverable_position` problem lists (its `streams` extension member); malformed entries are skipped. */
export function lostStreams(value: unknown): LostStream[] {
  if (!Array.isArray(value)) return [];
  const found: LostStream[] = [];
  for (const entry of value as unknown[]) {
    const position = positionOf(entry);
    if (position === null || !isObject(entry)) continue;
    const reason = entry["reason"];
    found.push({ ...position, reason: typeof reason === "string" ? reason : "" });
  }
  return found;
}

/** Whether `mark` comes after `kept`: any offset of another epoch does (the history was lost and started again). */
function isAfter(kept: Position | undefined, mark: Position): boolean {
  return kept === undefined || kept.epoch !== mark.epoch || mark.offset > kept.offset;
}

export class Positions<T> {
  private readonly kept = new Map<string, Position>();
  /** The held events by stream, in order of their stream's first one; null when not holding. */
  private held: Map<string, Array<Held<T>>> | null = null;
  private arrivals = 0;

  /** Whether events are being held (a resume is about to run, or runs). */
  get holding(): boolean {
    return this.held !== null;
  }

  /** A copy of every kept position, by stream name. */
  snapshot(): Record<string, Position> {
    return Object.fromEntries([...this.kept].map(([name, { epoch, offset }]) => [name, { epoch, offset }]));
  }

  /**
   * The positions a resume can name. A stream the server listed without an epoch (it was not in
   * the stream, or the stream keeps no history) has no place to resume from and is left out.
   */
  resumable(): StreamPosition[] {
    return [...this.kept]
      .filter(([, position]) => position.epoch !== "")
      .map(([name, { epoch, offset }]) => ({ name, epoch, offset }));
  }

  /** Sets a stream's position, as the server gives it for a stream to reload: later events go on from there. */
  set(name: string, position: Position): void {
    this.kept.set(name, { epoch: position.epoch, offset: position.offset });
  }

  /** An event bound for the application's listeners. */
  offer(mark: StreamPosition, item: T): Verdict {
    if (this.held !== null) {
      this.hold(mark, item);
      return "held";
    }
    return this.advance(mark) ? "deliver" : "duplicate";
  }

  /**
   * An event that went to a request of this client (its own copy of what it sent to a group): never
   * held back from the request, never dropped, but its offset counts as handed out.
   */
  passed(mark: StreamPosition): void {
    if (this.held !== null) this.hold(mark, null);
    else this.advance(mark);
  }

  /** Starts holding every positioned event back, until `release()`. */
  startHolding(): void {
    if (this.held === null) this.held = new Map();
  }

  /**
   * Stops holding and returns the held events to hand out: each stream's in offset order (by epoch
   * first, in the order the epochs came), without those already handed out; the positions move on.
   */
  release(): T[] {
    const held = this.held;
    this.held = null;
    if (held === null) return [];
    const out: T[] = [];
    for (const events of held.values()) {
      const epochs = new Map<string, number>();
      for (const { mark } of events) if (!epochs.has(mark.epoch)) epochs.set(mark.epoch, epochs.size);
      const rank = (one: Held<T>) => epochs.get(one.mark.epoch) ?? 0;
      // A request's own copy first on a tie: the same offset replayed for the listeners is then a duplicate.
      const sorted = [...events].sort(
        (a, b) =>
          rank(a) - rank(b) ||
          a.mark.offset - b.mark.offset ||
          (a.item === null ? 0 : 1) - (b.item === null ? 0 : 1) ||
          a.arrival - b.arrival,
      );
      for (const { mark, item } of sorted) {
        if (item === null) this.advance(mark);
        else if (this.advance(mark)) out.push(item);
      }
    }
    return out;
  }

  private hold(mark: StreamPosition, item: T | null): void {
    const held = this.held;
    if (held === null) return;
    let events = held.get(mark.name);
    if (events === undefined) {
      events = [];
      held.set(mark.name, events);
    }
    this.arrivals += 1;
    events.push({ mark, item, arrival: this.arrivals });
  }

  /** Moves the stream's position to `mark` if it comes after it; returns whether it did. */
  private advance(mark: StreamPosition): boolean {
    if (!isAfter(this.kept.get(mark.name), mark)) return false;
    this.kept.set(mark.name, { epoch: mark.epoch, offset: mark.offset });
    return true;
  }
}
