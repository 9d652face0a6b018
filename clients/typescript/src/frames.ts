/**
 * The frames of the wire protocol (docs/en/protocol.md, protocol-v1.md): their shapes, and the one
 * function that tells an inbound text apart as an event, a problem or garbage. Events and problems
 * keep their wire member names (`req_id`, `recipient_id`), so what the client hands out is exactly
 * what the server sent.
 */

/** The subprotocol of protocol v1, and the token subprotocol's marker. */
export const SUBPROTOCOL = "beeflow.v1";
export const TOKEN_SUBPROTOCOL = "access-token";

/** Reserved names of protocol v1. */
export const COMPLETE = "beeflow.complete";
export const CANCEL = "beeflow.cancel";
export const PING = "beeflow.ping";
export const REFRESH = "beeflow.refresh";
export const TOKEN_EXPIRING = "beeflow.token_expiring";
export const RESUME = "beeflow.resume";
export const RESUMED = "beeflow.resumed";
/** The problem that ends a `beeflow.resume` which could not recover every stream it named. */
export const UNRECOVERABLE_POSITION = "unrecoverable_position";
/** The problem that answers a request sent again whose first attempt the server already started (`retry_window`). */
export const DUPLICATE_REQUEST = "duplicate_request";

/** A place in a stream: its offset within its epoch (the epoch changes whenever its history is lost). */
export interface Position {
  readonly epoch: string;
  readonly offset: number;
}

/** An event's place in the stream it was sent to (the frame's `stream` member), or a place to resume from. */
export interface StreamPosition extends Position {
  /** `~user:<id>` for a user's events, else the group's name. */
  readonly name: string;
}

/** Why the server could not recover a stream; later servers may add reasons. */
export type LostReason = "epoch_changed" | "expired" | "ahead" | "kicked" | "not_a_member" | "no_history";

/**
 * A stream a resume could not recover: its position now (reload what the stream shows, then go on
 * from `offset`), and why. `epoch` is empty when the stream has no history at all now.
 */
export interface LostStream extends StreamPosition {
  readonly reason: LostReason | (string & {});
}

/** An action envelope, client to server. */
export interface ActionFrame {
  readonly msg_id: string;
  readonly req_id: string;
  readonly action: string;
  readonly payload: unknown;
}

/** An event frame, server to client, as received. */
export interface EventFrame<Name extends string = string, Payload = Record<string, unknown>> {
  readonly msg_id: string;
  /** The request it answers; absent for pushes. */
  readonly req_id?: string;
  /** 1, 2, 3, … per connection, from its open. */
  readonly seq: number;
  /** The event's place in its user's or group's stream, when that stream keeps a history. */
  readonly stream?: StreamPosition;
  /** Protocol v1: `true` on a request's terminal frame, `false` on its others, absent when it ends no request of this connection. */
  readonly final?: boolean;
  readonly event: Name;
  readonly recipient: string;
  readonly recipient_id: string;
  readonly payload: Payload;
}

/** A Problem Details frame (RFC 9457), server to client, as received. */
export interface ProblemFrame {
  readonly msg_id?: string;
  readonly req_id?: string;
  readonly final?: boolean;
  readonly seq?: number;
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly instance?: string;
  readonly errors?: unknown;
  readonly [extension: string]: unknown;
}

export type Inbound =
  | { readonly kind: "event"; readonly frame: EventFrame }
  | { readonly kind: "problem"; readonly frame: ProblemFrame }
  | { readonly kind: "invalid"; readonly text: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads one inbound text frame. Never throws. */
export function parseInbound(text: string): Inbound {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "invalid", text };
  }
  if (!isObject(value)) return { kind: "invalid", text };
  if (typeof value["event"] === "string") {
    return { kind: "event", frame: value as unknown as EventFrame };
  }
  if (typeof value["code"] === "string" && typeof value["status"] === "number") {
    const frame = {
      type: "about:blank",
      title: "",
      detail: "",
      ...value,
    } as unknown as ProblemFrame;
    return { kind: "problem", frame };
  }
  return { kind: "invalid", text };
}

const decoder = new TextDecoder();

/** The text of a message event's data: a string, or UTF-8 bytes (binary frames hold JSON too). */
export function messageText(data: unknown): string | null {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return decoder.decode(new Uint8Array(data));
  if (ArrayBuffer.isView(data)) return decoder.decode(data);
  if (Array.isArray(data) && data.every((part) => ArrayBuffer.isView(part))) {
    return data.map((part: ArrayBufferView) => decoder.decode(part)).join("");
  }
  return null;
}
