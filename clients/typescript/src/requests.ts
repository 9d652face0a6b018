/**
 * The request table: every request this client has made and not seen the end of, by `req_id`, with
 * where its frames go. A request is `queued` (made while the connection was not open; bounded by
 * `queueLimit`), `sent` (on the current connection) or `retrying` (made with `retry`, sent on a
 * connection that was lost, and waiting to be sent again, unchanged, on the next one; not bounded by
 * `queueLimit`, which is about requests made offline). The table routes each inbound frame of
 * protocol v1: a frame with `final` and a known `req_id` belongs to that request and `final: true`
 * ends it; frames without `final` belong to no request of this connection (pushes, other
 * connections' requests) and go to the listeners.
 */

import type { EventFrame, ProblemFrame } from "./frames.js";
import { BeeflowProblem, QueueFull, type BeeflowError } from "./errors.js";

/** Where one request's frames go: a promise collecting them, or a stream handing them out. */
export interface RequestSink {
  /** A non-terminal event of the request. */
  event(frame: EventFrame): void;
  /** The terminal event (`beeflow.complete` or the request's last event). */
  complete(terminal: EventFrame): void;
  /** The request ended in failure: a terminal problem, or a client-side end. */
  fail(error: BeeflowError): void;
  /** A problem that does not end the request (`final: false`, such as `delivery_unavailable`). */
  problem(problem: BeeflowProblem): void;
}

export interface Entry {
  readonly reqId: string;
  readonly action: string;
  /** The action envelope, serialised: a retry sends these very bytes again, so `msg_id` stays. */
  readonly text: string;
  /** Whether a lost connection sends it again on the next one instead of ending it with `ConnectionLost`. */
  readonly retry: boolean;
  state: "queued" | "sent" | "retrying";
  readonly sink: RequestSink;
  /** Clears the entry's timer and abort listener; called once, whenever the entry leaves the table. */
  readonly cleanup: () => void;
}

export type EventRoute = "request" | "stale" | "listeners";
export type ProblemRoute = "terminal" | "progress" | "stale" | "unowned";

/** How many given-up requests are remembered, so that their late frames are dropped quietly. */
const REMEMBERED = 1000;

export class RequestTable {
  private readonly entries = new Map<string, Entry>();
  private queuedCount = 0;
  /** Requests this client gave up on (timeout, abort, break) or cancel requests it sent, on this connection. */
  private readonly abandoned = new Set<string>();

  constructor(readonly queueLimit: number) {}

  get size(): number {
    return this.entries.size;
  }

  get queueLength(): number {
    return this.queuedCount;
  }

  get(reqId: string): Entry | undefined {
    return this.entries.get(reqId);
  }

  /** Adds a request; a queued one over the limit throws `QueueFull` and is not added. */
  add(entry: Entry): void {
    if (entry.state === "queued") {
      if (this.queuedCount >= this.queueLimit) throw new QueueFull(this.queueLimit);
      this.queuedCount += 1;
    }
    this.entries.set(entry.reqId, entry);
  }

  /**
   * The requests waiting for a connection, in the order to send them: those to be sent again first
   * (their first attempt went before anything queued since), then the queued ones, each in the
   * order they were made (the map's insertion order).
   */
  waiting(): Entry[] {
    const entries = [...this.entries.values()];
    return [
      ...entries.filter((entry) => entry.state === "retrying"),
      ...entries.filter((entry) => entry.state === "queued"),
    ];
  }

  markSent(entry: Entry): void {
    if (entry.state === "queued") this.queuedCount -= 1;
    entry.state = "sent";
  }

  /** A request made with `retry` that could not be written waits for the next connection, like one that was lost. */
  markRetrying(entry: Entry): void {
    if (entry.state === "queued") this.queuedCount -= 1;
    entry.state = "retrying";
  }

  /** Takes a request out of the table (it ended, timed out or was given up); returns it if it was there. */
  remove(reqId: string): Entry | undefined {
    const entry = this.entries.get(reqId);
    if (entry === undefined) return undefined;
    this.entries.delete(reqId);
    if (entry.state === "queued") this.queuedCount -= 1;
    entry.cleanup();
    return entry;
  }

  /** Remembers a request whose remaining frames nobody waits for (its terminal frame may still come). */
  forget(reqId: string): void {
    this.abandoned.add(reqId);
    if (this.abandoned.size > REMEMBERED) {
      const oldest = this.abandoned.values().next();
      if (oldest.done !== true) this.abandoned.delete(oldest.value);
    }
  }

  /** Whether a frame of a request nobody waits for ends it; its req_id is forgotten then. */
  private stale(reqId: unknown, final: unknown): boolean {
    if (typeof reqId !== "string" || !this.abandoned.has(reqId)) return false;
    if (final !== false) this.abandoned.delete(reqId);
    return true;
  }

  /** Routes an event frame. */
  routeEvent(frame: EventFrame): EventRoute {
    if (frame.final === undefined || typeof frame.req_id !== "string") return "listeners";
    const entry = this.entries.get(frame.req_id);
    if (entry === undefined || entry.state !== "sent") {
      this.stale(frame.req_id, frame.final);
      return "stale";
    }
    if (frame.final === true) {
      this.remove(entry.reqId);
      entry.sink.complete(frame);
    } else {
      entry.sink.event(frame);
    }
    return "request";
  }

  /** Routes a problem frame; returns the problem as an error object beside the route. */
  routeProblem(frame: ProblemFrame): { route: ProblemRoute; problem: BeeflowProblem } {
    const problem = new BeeflowProblem(frame);
    const entry = typeof frame.req_id === "string" ? this.entries.get(frame.req_id) : undefined;
    if (entry === undefined || entry.state !== "sent") {
      return { route: this.stale(frame.req_id, frame.final) ? "stale" : "unowned", problem };
    }
    if (frame.final === false) {
      entry.sink.problem(problem);
      return { route: "progress", problem };
    }
    this.remove(entry.reqId);
    entry.sink.fail(problem);
    return { route: "terminal", problem };
  }

  /**
   * A connection was lost and another will follow: the requests in flight made with `retry` wait to
   * be sent again (their timers and abort listeners stay: the time limit spans the reconnect), the
   * others end; queued ones stay for the next connection.
   */
  lose(error: (entry: Entry) => BeeflowError): void {
    this.abandoned.clear();
    for (const entry of [...this.entries.values()]) {
      if (entry.state !== "sent") continue;
      if (entry.retry) {
        entry.state = "retrying";
        continue;
      }
      this.remove(entry.reqId);
      entry.sink.fail(error(entry));
    }
  }

  /**
   * A connection was lost and none will follow (a terminal close code): every request in flight
   * ends, `retry` or not, as there is nowhere to send it again; queued and retrying ones end with
   * the client's close right after.
   */
  failSent(error: (entry: Entry) => BeeflowError): void {
    this.abandoned.clear();
    for (const entry of [...this.entries.values()]) {
      if (entry.state !== "sent") continue;
      this.remove(entry.reqId);
      entry.sink.fail(error(entry));
    }
  }

  /** Ends every request, queued, sent or retrying. */
  failAll(error: (entry: Entry) => BeeflowError): void {
    for (const entry of [...this.entries.values()]) {
      this.remove(entry.reqId);
      entry.sink.fail(error(entry));
    }
  }
}
