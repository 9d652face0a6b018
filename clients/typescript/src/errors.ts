/**
 * The errors a request, a stream or the connection can end with, as classes so that callers branch
 * with `instanceof` (or on `name`), never on message text. A problem frame sent by the server becomes
 * a `BeeflowProblem`; everything the client decides by itself (time, abort, loss, queue, close,
 * refused token, a server without protocol v1) has a class of its own.
 */

import { DUPLICATE_REQUEST, type ProblemFrame } from "./frames.js";

/** One wrong member or field of an `invalid_websocket_message` or `invalid_action_payload` problem. */
export interface ProblemErrorItem {
  readonly loc: ReadonlyArray<string | number>;
  readonly msg: string;
  readonly type: string;
  readonly [member: string]: unknown;
}

/**
 * What became of a request's first attempt, as the server's `duplicate_request` says when the
 * request is sent again (`retry`): `running` (it still runs, or its process died), `completed`,
 * `failed` (it ended with a problem: an error, a cancel, a time limit) or `interrupted` (its
 * connection went while it ran: it may have done part of its work). Later servers may add outcomes.
 */
export type RequestOutcome = "running" | "completed" | "failed" | "interrupted" | (string & {});

/** The base class of every error this client throws or rejects with. */
export class BeeflowError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An RFC 9457 problem frame sent by the server: the request ended with it (or, non-final, went on). */
export class BeeflowProblem<Code extends string = string> extends BeeflowError {
  /** Stable machine-readable name, such as `invalid_action_payload` or an application's `seat_taken`. */
  readonly code: Code;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  /** `<problem_type_base_url>/<slug>` or `about:blank`. */
  readonly type: string;
  /** The per-field list of `invalid_websocket_message` and `invalid_action_payload`, else null. */
  readonly errors: readonly ProblemErrorItem[] | null;
  /** The request the problem answers, or null when the server could not read one. */
  readonly reqId: string | null;
  /** `true` on a request's terminal frame, `false` when the request goes on, null when absent. */
  readonly final: boolean | null;
  /**
   * `duplicate_request`'s extension member: what became of the first attempt of a request sent again,
   * so the application knows whether its work was done; null on every other problem. Typed here
   * because the application must branch on it; other extension members are read from `frame`.
   */
  readonly outcome: RequestOutcome | null;
  /** The whole frame as received, extension members included. */
  readonly frame: ProblemFrame;

  constructor(frame: ProblemFrame) {
    super(`${frame.code}: ${frame.detail}`);
    this.code = frame.code as Code;
    this.status = frame.status;
    this.title = frame.title;
    this.detail = frame.detail;
    this.type = frame.type;
    this.errors = Array.isArray(frame.errors) ? (frame.errors as ProblemErrorItem[]) : null;
    this.reqId = typeof frame.req_id === "string" ? frame.req_id : null;
    this.final = typeof frame.final === "boolean" ? frame.final : null;
    const outcome = frame["outcome"];
    this.outcome = frame.code === DUPLICATE_REQUEST && typeof outcome === "string" ? outcome : null;
    this.frame = frame;
  }
}

/** The request's own time limit passed before its terminal frame; the client sent `beeflow.cancel`. */
export class RequestTimeout extends BeeflowError {
  constructor(readonly action: string, readonly timeout: number) {
    super(`request ${JSON.stringify(action)} got no terminal frame within ${timeout} ms`);
  }
}

/** The caller's AbortSignal aborted the request; the client sent `beeflow.cancel` if it was sent. */
export class RequestAborted extends BeeflowError {
  constructor(readonly action: string, reason?: unknown) {
    super(`request ${JSON.stringify(action)} was aborted`, { cause: reason });
  }
}

/**
 * The connection was lost while the request was in flight: whether it ran is unknown. A request made
 * with `retry` gets it only when no reconnect follows (a terminal close code).
 */
export class ConnectionLost extends BeeflowError {
  constructor(readonly action: string, readonly closeCode: number | null) {
    super(`connection lost while ${JSON.stringify(action)} was in flight`);
  }
}

/** The offline queue already holds `queueLimit` requests. */
export class QueueFull extends BeeflowError {
  constructor(readonly limit: number) {
    super(`the offline queue is full (${limit} requests wait for the connection)`);
  }
}

/** The client was closed: by `close()`, or for good after a terminal close code or a refused token. */
export class ClientClosed extends BeeflowError {
  /** `cause` is why the client closed for good (an `UnauthorizedError`, a `ProtocolMismatch`), if known. */
  constructor(message = "the client is closed", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Thrown by an application's `getToken()` when there is no user to connect as. The client stops for
 * good (status `closed`) instead of retrying; returning `null` from `getToken()` means the same.
 */
export class UnauthorizedError extends BeeflowError {
  constructor(message = "no access token: the application has no user") {
    super(message);
  }
}

/** The server did not select the subprotocol `beeflow.v1`: it does not speak protocol v1. */
export class ProtocolMismatch extends BeeflowError {
  constructor(readonly selected: string) {
    super(`the server selected subprotocol ${JSON.stringify(selected)}, not "beeflow.v1"`);
  }
}
