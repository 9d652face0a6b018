/**
 * The client an application holds: one connection, its requests and streams, its listeners. It
 * composes the pieces (connection and backoff, request table, streams, heartbeat, stream positions)
 * and adds what ties them together: the offline queue, time limits and aborts that send
 * `beeflow.cancel`, the routing of each inbound frame, the `seq` check, the resume that follows
 * every reconnect, and the requests made with `retry` sent again after it. Typed by a generated
 * `Contract`, or by `AnyContract`.
 */

import type {
  ActionName,
  AnyContract,
  ContractShape,
  EventOf,
  ListenName,
  PayloadOf,
  TypedEvent,
} from "./contract.js";
import type { BackoffOptions } from "./backoff.js";
import {
  Connection,
  type CloseReason,
  type Status,
  type WebSocketConstructor,
} from "./connection.js";
import {
  BeeflowProblem,
  ClientClosed,
  ConnectionLost,
  RequestAborted,
  RequestTimeout,
  UnauthorizedError,
  type BeeflowError,
} from "./errors.js";
import {
  CANCEL,
  COMPLETE,
  PING,
  REFRESH,
  RESUME,
  TOKEN_EXPIRING,
  UNRECOVERABLE_POSITION,
  parseInbound,
  type EventFrame,
  type LostStream,
  type Position,
  type StreamPosition,
} from "./frames.js";
import type { HeartbeatOptions } from "./heartbeat.js";
import { uuid } from "./ids.js";
import { Listeners, type Unsubscribe } from "./listeners.js";
import { Positions, lostStreams, positionOf } from "./positions.js";
import { RequestTable, type Entry, type RequestSink } from "./requests.js";
import { EventStream } from "./streams.js";
import { realTimers, type Timers } from "./timers.js";
import { TokenSource, type GetToken } from "./token.js";

/** A break in the connection's `seq` numbering: frames were lost between the two. */
export interface Gap {
  readonly expected: number;
  readonly received: number;
}

/** Every duration is in milliseconds. */
export interface ClientOptions {
  /** The WebSocket URL, such as `wss://example.com/ws/`. Never put a token in it. */
  readonly url: string;
  /**
   * Asked for a fresh token before every connection attempt (calls made while one is pending share
   * it), and when the server says the token expires soon (`beeflow.token_expiring`): the fresh one
   * is then sent with `beeflow.refresh`, and the connection stays. Return `null`, or throw `UnauthorizedError`, when there is no user: the client closes for
   * good. Other errors are reported to `onError` and the attempt is retried with backoff. Without
   * `getToken`, the client connects without a token.
   */
  readonly getToken?: GetToken;
  /** The WebSocket class; defaults to `globalThis.WebSocket` (browsers, Node 22+). On Node 20, pass `ws`. */
  readonly WebSocket?: WebSocketConstructor;
  /** Full-jitter exponential backoff between attempts. Default `{ initial: 500, max: 20000 }`. */
  readonly backoff?: BackoffOptions;
  /** How long a request waits for its terminal frame, queued time included. Default 10000. */
  readonly requestTimeout?: number;
  /** How long an attempt may take to open before it is abandoned. Default 10000. */
  readonly connectTimeout?: number;
  /** Ping after `interval` of silence; drop the connection if nothing arrives within `timeout` after. Default `{ interval: 25000, timeout: 10000 }`; `false` turns it off. */
  readonly heartbeat?: HeartbeatOptions | false;
  /** How many requests may wait for a connection. Default 100; over it, `QueueFull`. */
  readonly queueLimit?: number;
  /** Problems that end no request: `final: false` ones (the request goes on) and those with no request of this client. */
  readonly onProblem?: (problem: BeeflowProblem) => void;
  /** A break in `seq`: frames were lost. */
  readonly onGap?: (gap: Gap) => void;
  /**
   * Called on every reconnect (not the first connect) once the socket is open, and awaited, before
   * the client sends `beeflow.resume` and before the requests sent again (`retry`) and those queued
   * offline go: join your groups again here with your own requests, because a resume recovers only
   * the streams the new connection is in. Requests made while it runs are sent at once. A failure goes to `onError`, and the resume
   * follows all the same.
   */
  readonly beforeResume?: () => Promise<void>;
  /**
   * A resume could not recover these streams (the server's `unrecoverable_position`): reload what
   * each shows; events go on from its `offset`, which is now the client's position for it.
   */
  readonly onResyncNeeded?: (streams: readonly LostStream[]) => void;
  /** Errors of the application's callbacks and listeners, unreadable frames, failed token calls. Default `console.error`. */
  readonly onError?: (error: unknown) => void;
  /** The clock, for tests. */
  readonly timers?: Timers;
  /** The random source of the backoff's jitter, for tests. */
  readonly random?: () => number;
}

export interface RequestOptions {
  /** Milliseconds to wait for the terminal frame; `Infinity` waits forever. Default: the client's `requestTimeout`. */
  readonly timeout?: number;
  /** Aborting it rejects with `RequestAborted` and sends `beeflow.cancel` for a request on the current connection. */
  readonly signal?: AbortSignal;
  /** Problems with `final: false` for this request (it goes on). */
  readonly onProblem?: (problem: BeeflowProblem) => void;
  /**
   * When the connection the request was sent on is lost and the client reconnects, send it again,
   * unchanged (same `msg_id` and `req_id`), on the next connection after its resume, instead of
   * rejecting with `ConnectionLost`. Only the server can tell a request that ran from one that never
   * arrived: with its `retry_window` set it runs a `msg_id` once and answers a repeat with the problem
   * `duplicate_request` (`BeeflowProblem.outcome` says what became of the first attempt). Without it
   * the request may run twice: use it only then, or for actions that may. The `timeout` spans the
   * reconnect; a request waiting to be sent again does not count against `queueLimit`. Default false.
   */
  readonly retry?: boolean;
}

export interface StreamOptions {
  /** Aborting it throws `RequestAborted` from the loop and sends `beeflow.cancel`. */
  readonly signal?: AbortSignal;
  /** Milliseconds to wait for the terminal frame. Default: no limit. */
  readonly timeout?: number;
  /** Problems with `final: false` for this request (it goes on). */
  readonly onProblem?: (problem: BeeflowProblem) => void;
  /** As `RequestOptions.retry`: the loop goes on with the new attempt's events after those already handed out. */
  readonly retry?: boolean;
}

/** How one request is made: its time limit (`Infinity`: none), its abort signal, and whether a loss sends it again. */
interface Conduct {
  readonly timeout: number;
  readonly signal: AbortSignal | undefined;
  readonly retry: boolean;
}

type AnyEventListener = (event: EventFrame<string, unknown>) => void;
const ANY = Symbol("any");
/** How many streams the server takes in one `beeflow.resume`; more are resumed by several at once. */
const RESUME_LIMIT = 100;

function defaultReport(error: unknown): void {
  console.error("@beeflow/websocket-client:", error);
}

export class BeeflowClient<C extends ContractShape = AnyContract> {
  private readonly options: ClientOptions;
  private readonly connection: Connection;
  private readonly table: RequestTable;
  private readonly tokens: TokenSource;
  private readonly timers: Timers;
  private readonly report: (error: unknown) => void;
  private readonly eventListeners: Listeners<string | typeof ANY, AnyEventListener>;
  private readonly statusListeners: Listeners<"status", (status: Status) => void>;
  private readonly kept = new Positions<EventFrame>();
  private lastSeq = 0;
  /** Connections opened so far; a reconnect's resume checks it is still on its connection. */
  private opens = 0;
  private lastRecovered: boolean | null = null;

  constructor(url: string, options?: Omit<ClientOptions, "url">);
  constructor(options: ClientOptions);
  constructor(urlOrOptions: string | ClientOptions, more: Omit<ClientOptions, "url"> = {}) {
    const options: ClientOptions =
      typeof urlOrOptions === "string" ? { ...more, url: urlOrOptions } : urlOrOptions;
    this.options = options;
    const onError = options.onError;
    this.report =
      onError === undefined
        ? defaultReport
        : (error) => {
            try {
              onError(error);
            } catch (failure) {
              defaultReport(failure);
            }
          };
    const WebSocketClass =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocketClass === undefined) {
      throw new TypeError("no WebSocket class: pass options.WebSocket (on Node 20, the ws package's)");
    }
    this.timers = options.timers ?? realTimers;
    this.tokens = new TokenSource(options.getToken);
    this.table = new RequestTable(options.queueLimit ?? 100);
    this.eventListeners = new Listeners(this.report);
    this.statusListeners = new Listeners(this.report);
    this.connection = new Connection(
      {
        url: options.url,
        WebSocket: WebSocketClass,
        tokens: this.tokens,
        backoff: options.backoff,
        connectTimeout: options.connectTimeout ?? 10_000,
        heartbeat: options.heartbeat ?? {},
        timers: this.timers,
        random: options.random,
      },
      {
        status: (status) => this.statusListeners.emit("status", status),
        open: () => this.opened(),
        message: (text) => this.received(text),
        lost: (code, reconnects) => {
          const error = (entry: Entry) => new ConnectionLost(entry.action, code);
          // Requests made with `retry` wait for the next connection, when there is one.
          if (reconnects) this.table.lose(error);
          else this.table.failSent(error);
          // Events held for a resume that was never sent: the application gets them now.
          this.deliverHeld();
        },
        closed: (reason) => {
          this.table.failAll(() => closedError(reason));
          this.kept.release();
        },
        error: (error) => this.report(error),
      },
    );
    this.connection.sendPing = () => {
      this.connection.send(JSON.stringify({ msg_id: uuid(), req_id: uuid(), action: PING, payload: {} }));
    };
    this.connection.start();
  }

  /** `connecting`, `open`, `reconnecting` or `closed`. */
  get status(): Status {
    return this.connection.status;
  }

  /** Why the client is closed, once it is. */
  get closeReason(): CloseReason | null {
    return this.connection.closeReason;
  }

  /** The last close code the server sent on any connection of this client, or null. */
  get lastCloseCode(): number | null {
    return this.connection.lastCloseCode;
  }

  /** How many times `getToken()` was called. */
  get tokenCalls(): number {
    return this.tokens.calls;
  }

  /**
   * Whether the last resume recovered every stream: null before any resume, false when it could not
   * recover some (see `onResyncNeeded`) or failed (see `onError`).
   */
  get recovered(): boolean | null {
    return this.lastRecovered;
  }

  /** The last position handed to the application of each stream, by name: a copy. */
  get positions(): Readonly<Record<string, Position>> {
    return this.kept.snapshot();
  }

  /** Calls `listener` on every change of status; returns the unsubscribe. */
  onStatus(listener: (status: Status) => void): Unsubscribe {
    return this.statusListeners.add("status", listener);
  }

  /**
   * Listens for events named `event` that belong to no request of this client: pushes to its user
   * or groups, and events of other connections' requests. Returns the unsubscribe.
   */
  on<N extends ListenName<C>>(event: N, listener: (event: TypedEvent<C, N>) => void): Unsubscribe {
    return this.eventListeners.add(event, listener as AnyEventListener);
  }

  /** Listens for every event that belongs to no request of this client. */
  onAny(listener: (event: EventFrame<string, unknown>) => void): Unsubscribe {
    return this.eventListeners.add(ANY, listener);
  }

  /**
   * Sends an action and resolves with its events once its terminal frame arrives: the last event is
   * included when it is the terminal frame, `beeflow.complete` never. Rejects with `BeeflowProblem`
   * when a problem ends it, or with `RequestTimeout`, `RequestAborted`, `ConnectionLost`, `QueueFull`,
   * `ClientClosed`. With `retry`, a lost connection sends it again and the events of both attempts
   * are collected, in order.
   */
  request<A extends ActionName<C>>(
    action: A,
    payload: PayloadOf<C, A>,
    options: RequestOptions = {},
  ): Promise<Array<EventOf<C, A>>> {
    return new Promise((resolve, reject) => {
      const events: EventFrame[] = [];
      const sink: RequestSink = {
        event: (frame) => events.push(frame),
        complete: (terminal) => {
          if (terminal.event !== COMPLETE) events.push(terminal);
          resolve(events as unknown as Array<EventOf<C, A>>);
        },
        fail: reject,
        problem: (problem) => this.problemHook(options.onProblem, problem),
      };
      this.begin(uuid(), action, payload, sink, {
        timeout: options.timeout ?? this.options.requestTimeout ?? 10_000,
        signal: options.signal,
        retry: options.retry === true,
      });
    });
  }

  /**
   * Sends an action and hands out its events as they arrive. The loop ends after the terminal frame,
   * or throws what ended the request; leaving it early (`break`) or aborting `signal` sends
   * `beeflow.cancel`. With `retry`, a lost connection sends it again and the loop goes on with the
   * events of the new attempt after those already handed out.
   */
  stream<A extends ActionName<C>>(
    action: A,
    payload: PayloadOf<C, A>,
    options: StreamOptions = {},
  ): AsyncIterableIterator<EventOf<C, A>> {
    const reqId = uuid();
    const stream = new EventStream<EventOf<C, A>>(() => this.giveUp(reqId, null));
    const sink: RequestSink = {
      event: (frame) => stream.push(frame as unknown as EventOf<C, A>),
      complete: (terminal) => {
        if (terminal.event !== COMPLETE) stream.push(terminal as unknown as EventOf<C, A>);
        stream.end();
      },
      fail: (error) => stream.fail(error),
      problem: (problem) => this.problemHook(options.onProblem, problem),
    };
    this.begin(reqId, action, payload, sink, {
      timeout: options.timeout ?? Infinity,
      signal: options.signal,
      retry: options.retry === true,
    });
    return stream;
  }

  /** Ends the client: the connection is closed, every pending request rejects with `ClientClosed`. */
  close(): void {
    this.connection.close();
  }

  private begin(reqId: string, action: string, payload: unknown, sink: RequestSink, conduct: Conduct): void {
    const { timeout, signal, retry } = conduct;
    if (this.connection.status === "closed") {
      const reason = this.connection.closeReason;
      sink.fail(reason === null ? new ClientClosed() : closedError(reason));
      return;
    }
    if (signal?.aborted === true) {
      sink.fail(new RequestAborted(action, signal.reason));
      return;
    }
    let timer: unknown = null;
    const onAbort = () => this.giveUp(reqId, new RequestAborted(action, signal?.reason));
    const entry: Entry = {
      reqId,
      action,
      text: JSON.stringify({ msg_id: uuid(), req_id: reqId, action, payload }),
      retry,
      state: this.connection.isOpen ? "sent" : "queued",
      sink,
      cleanup: () => {
        if (timer !== null) this.timers.clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      },
    };
    try {
      this.table.add(entry);
    } catch (error) {
      sink.fail(error as BeeflowError);
      return;
    }
    if (Number.isFinite(timeout)) {
      timer = this.timers.setTimeout(() => {
        timer = null;
        this.giveUp(reqId, new RequestTimeout(action, timeout));
      }, Math.max(0, timeout));
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    if (entry.state === "sent" && !this.connection.send(entry.text)) {
      // Not written: one made with `retry` waits for the next connection, as after a loss.
      if (retry) {
        this.table.markRetrying(entry);
        return;
      }
      this.table.remove(reqId);
      sink.fail(new ConnectionLost(action, null));
    }
  }

  /**
   * Stops waiting for a request; when it was sent on this connection, asks the server to stop it too.
   * One that waits to be sent (queued, or `retry` after a loss) is only taken out: this connection
   * never saw it, so there is nothing to cancel.
   */
  private giveUp(reqId: string, error: BeeflowError | null): void {
    const entry = this.table.remove(reqId);
    if (entry === undefined) return;
    if (entry.state === "sent") {
      const cancelId = uuid();
      this.table.forget(reqId);
      this.table.forget(cancelId);
      this.connection.send(
        JSON.stringify({ msg_id: uuid(), req_id: cancelId, action: CANCEL, payload: { req_id: reqId } }),
      );
    }
    if (error !== null) entry.sink.fail(error);
  }

  private opened(): void {
    this.lastSeq = 0;
    this.opens += 1;
    const hook = this.options.beforeResume;
    const positions = this.kept.resumable();
    if (this.opens === 1 || (hook === undefined && positions.length === 0)) {
      this.sendWaiting();
      return;
    }
    // From the open on: a live event that overtakes the missed ones must not move a position past them.
    if (positions.length > 0) this.kept.startHolding();
    if (hook === undefined) {
      this.resume(positions);
      this.sendWaiting();
      return;
    }
    const opens = this.opens;
    const run = async (): Promise<void> => {
      try {
        await hook();
      } catch (error) {
        // Closed meanwhile: its requests failed with ClientClosed, which says nothing new.
        if (this.connection.status !== "closed") this.report(error);
      }
      // Lost meanwhile: the next connection starts again (what was held went out on the loss).
      if (opens !== this.opens || !this.connection.isOpen) return;
      if (positions.length > 0) this.resume(positions);
      this.sendWaiting();
    };
    void run();
  }

  /**
   * Sends the requests that waited for a connection: those lost with the last one (`retry`) first,
   * then those queued offline, each in the order they were made. A retried one goes out unchanged,
   * its `msg_id` included, so that a server with `retry_window` recognises it.
   */
  private sendWaiting(): void {
    for (const entry of this.table.waiting()) {
      this.table.markSent(entry);
      this.connection.send(entry.text);
    }
  }

  /**
   * Asks the server for each stream's events after its position (`beeflow.resume`); the positioned
   * events are held meanwhile, and handed out in offset order when the last answer comes.
   */
  private resume(positions: readonly StreamPosition[]): void {
    const lost: LostStream[] = [];
    const failures: unknown[] = [];
    const chunks: StreamPosition[][] = [];
    for (let start = 0; start < positions.length; start += RESUME_LIMIT) {
      chunks.push(positions.slice(start, start + RESUME_LIMIT));
    }
    let pending = chunks.length;
    const ended = () => {
      pending -= 1;
      if (pending === 0) this.resumed(lost, failures);
    };
    for (const streams of chunks) {
      const sink: RequestSink = {
        // beeflow.resumed: the replayed events of its stream came before it, and were held.
        event: () => {},
        complete: ended,
        fail: (error) => {
          if (error instanceof BeeflowProblem && error.code === UNRECOVERABLE_POSITION) {
            lost.push(...lostStreams(error.frame["streams"]));
          } else {
            failures.push(error);
          }
          ended();
        },
        problem: (problem) => this.problemHook(undefined, problem),
      };
      this.begin(uuid(), RESUME, { streams }, sink, {
        timeout: this.options.requestTimeout ?? 10_000,
        signal: undefined,
        retry: false,
      });
    }
  }

  /** Every answer to the resume came: move the lost streams on, tell the application, hand out what was held. */
  private resumed(lost: readonly LostStream[], failures: readonly unknown[]): void {
    if (this.connection.status === "closed") {
      this.kept.release();
      return;
    }
    for (const stream of lost) this.kept.set(stream.name, stream);
    this.lastRecovered = lost.length === 0 && failures.length === 0;
    for (const failure of failures) this.report(failure);
    const onResyncNeeded = this.options.onResyncNeeded;
    if (lost.length > 0 && onResyncNeeded !== undefined) {
      try {
        onResyncNeeded(lost);
      } catch (error) {
        this.report(error);
      }
    }
    this.deliverHeld();
  }

  /** Stops holding positioned events and hands out those held: each stream's in offset order, once. */
  private deliverHeld(): void {
    for (const frame of this.kept.release()) this.dispatch(frame);
  }

  private received(text: string): void {
    const inbound = parseInbound(text);
    if (inbound.kind === "invalid") {
      this.report(new TypeError(`unreadable frame from the server: ${text.slice(0, 200)}`));
      return;
    }
    const frame = inbound.frame;
    if (typeof frame.seq === "number") this.checkSeq(frame.seq);
    if (inbound.kind === "event") {
      const mark = positionOf(inbound.frame.stream);
      if (mark !== null) {
        // With `final`, the request's own copy: it goes to the request at once, and counts as handed out.
        if (inbound.frame.final !== undefined) this.kept.passed(mark);
        else if (this.kept.offer(mark, inbound.frame) !== "deliver") return;
      }
      this.dispatch(inbound.frame);
      return;
    }
    const { route, problem } = this.table.routeProblem(inbound.frame);
    // A request's own non-final problems reach the hooks through its sink.
    if (route === "unowned") this.problemHook(undefined, problem);
  }

  /** Hands an event to its request, or to the listeners when it belongs to none. */
  private dispatch(frame: EventFrame): void {
    if (this.table.routeEvent(frame) !== "listeners") return;
    const event = frame as EventFrame<string, unknown>;
    if (event.event === TOKEN_EXPIRING && this.tokens.enabled) this.renew();
    this.eventListeners.emit(event.event, event);
    this.eventListeners.emit(ANY, event);
  }

  /**
   * The server says the token expires soon: send a fresh one with `beeflow.refresh`, and the
   * connection stays. Should that fail (reported to `onError`), the server closes the connection
   * once the token has expired (4440) and the client connects again with a fresh token.
   */
  private renew(): void {
    const send = async (): Promise<void> => {
      const token = await this.tokens.get();
      if (token === null) throw new UnauthorizedError("the token source has no user");
      await (this.request as (action: string, payload: unknown) => Promise<unknown>)(REFRESH, { token });
    };
    send().catch((error: unknown) => this.report(error));
  }

  private checkSeq(seq: number): void {
    const expected = this.lastSeq + 1;
    this.lastSeq = seq;
    if (seq !== expected && this.options.onGap !== undefined) {
      try {
        this.options.onGap({ expected, received: seq });
      } catch (error) {
        this.report(error);
      }
    }
  }

  private problemHook(own: ((problem: BeeflowProblem) => void) | undefined, problem: BeeflowProblem): void {
    for (const hook of [own, this.options.onProblem]) {
      if (hook === undefined) continue;
      try {
        hook(problem);
      } catch (error) {
        this.report(error);
      }
    }
  }
}

/** Every request of a client closed for good fails the same way: `ClientClosed`, its cause attached. */
function closedError(reason: CloseReason): ClientClosed {
  return new ClientClosed(closedMessage(reason), reason.error === null ? undefined : { cause: reason.error });
}

function closedMessage(reason: CloseReason): string {
  return reason.code === null
    ? `the client is closed: ${reason.reason}`
    : `the server closed the connection for good (${reason.code}${reason.reason ? `: ${reason.reason}` : ""})`;
}

/** Creates a client and starts connecting. */
export function createClient<C extends ContractShape = AnyContract>(options: ClientOptions): BeeflowClient<C> {
  return new BeeflowClient<C>(options);
}
