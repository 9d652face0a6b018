/**
 * Test doubles: a clock driven by hand and a WebSocket class whose server side the test plays, so
 * the client's timing and wire behaviour are tested without sleeping and without a server.
 */

import assert from "node:assert/strict";

import { BeeflowClient, type ClientOptions } from "../src/index.js";
import type { Timers } from "../src/timers.js";

export class FakeTimers implements Timers {
  now = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; callback: () => void }>();

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { at: this.now + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  get count(): number {
    return this.pending.size;
  }

  /** Moves the clock forward, running each timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      let due: [number, { at: number; callback: () => void }] | null = null;
      for (const entry of this.pending) {
        if (entry[1].at <= end && (due === null || entry[1].at < due[1].at)) due = entry;
      }
      if (due === null) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].callback();
      await settle();
    }
    this.now = end;
    await settle();
  }
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

type Handler = ((event: Record<string, unknown>) => void) | null;

export class FakeSocket {
  static instances: FakeSocket[] = [];
  static reset(): void {
    FakeSocket.instances = [];
  }
  static get last(): FakeSocket {
    const socket = FakeSocket.instances.at(-1);
    if (socket === undefined) throw new Error("no socket was created");
    return socket;
  }

  protocol = "";
  readyState = 0;
  onopen: unknown = null;
  onmessage: unknown = null;
  onclose: unknown = null;
  onerror: unknown = null;
  readonly sent: Array<Record<string, unknown>> = [];
  closed: { code?: number | undefined; reason?: string | undefined } | null = null;
  terminated = false;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.instances.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
    this.readyState = 3;
  }

  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }

  private fire(name: "onopen" | "onmessage" | "onclose" | "onerror", event: Record<string, unknown>): void {
    const handler = this[name] as Handler;
    if (typeof handler === "function") handler(event);
  }

  /** The server accepts, selecting `protocol`. */
  open(protocol = "beeflow.v1"): void {
    this.protocol = protocol;
    this.readyState = 1;
    this.fire("onopen", {});
  }

  /** The server sends a frame. */
  receive(frame: unknown): void {
    this.fire("onmessage", { data: typeof frame === "string" ? frame : JSON.stringify(frame) });
  }

  /** The server (or the network) closes the connection. */
  serverClose(code: number, reason = ""): void {
    this.readyState = 3;
    this.fire("onclose", { code, reason });
  }

  /** The handshake fails: an error, then a close, as browsers and ws report it. */
  fail(): void {
    this.readyState = 3;
    this.fire("onerror", {});
    this.fire("onclose", { code: 1006, reason: "" });
  }

  /** The action frames sent, without pings. */
  actions(): Array<Record<string, unknown>> {
    return this.sent.filter((frame) => frame["action"] !== "beeflow.ping");
  }
}

let seq = 0;

/** An event frame as the server writes it. */
export function event(
  name: string,
  payload: Record<string, unknown>,
  extra: { req_id?: string; final?: boolean; seq?: number; stream?: { name: string; epoch: string; offset: number } } = {},
): Record<string, unknown> {
  seq += 1;
  return {
    msg_id: `m-${seq}`,
    seq: extra.seq ?? seq,
    event: name,
    recipient: "websocket",
    recipient_id: "c-1",
    payload,
    ...(extra.req_id === undefined ? {} : { req_id: extra.req_id }),
    ...(extra.final === undefined ? {} : { final: extra.final }),
    ...(extra.stream === undefined ? {} : { stream: extra.stream }),
  };
}

export function problem(code: string, status: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    msg_id: "p-1",
    type: `https://example.com/problems/${code}`,
    title: code.replace(/_/g, " "),
    status,
    detail: `${code} happened`,
    code,
    instance: "/ws/",
    ...extra,
  };
}

/**
 * Loses the connection with `code` and opens the next one; returns its socket. The client's backoff
 * must wait 250 ms (random 0.5, as the tests' clients are made).
 */
export async function reconnect(timers: FakeTimers, socket: FakeSocket, code = 1012): Promise<FakeSocket> {
  socket.serverClose(code);
  await timers.advance(250);
  const next = FakeSocket.last;
  assert.notEqual(next, socket, "a new attempt was made");
  next.open();
  await settle();
  return next;
}

/**
 * A client on fake sockets and a hand-driven clock: random 0.5 (so its first backoff waits 250 ms),
 * no heartbeat, and its reported errors collected.
 */
export function fakeClient(options: Partial<ClientOptions> = {}): {
  client: BeeflowClient;
  timers: FakeTimers;
  errors: unknown[];
} {
  FakeSocket.reset();
  const timers = new FakeTimers();
  const errors: unknown[] = [];
  const client = new BeeflowClient({
    url: "ws://example.test/ws/",
    WebSocket: FakeSocket,
    timers,
    random: () => 0.5,
    heartbeat: false,
    onError: (error) => errors.push(error),
    ...options,
  });
  return { client, timers, errors };
}
