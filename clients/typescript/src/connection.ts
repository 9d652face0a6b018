/**
 * The socket's lifecycle: connect (a fresh token each attempt, offered as a subprotocol), check that
 * the server speaks protocol v1, watch liveness, and after any loss reconnect with full-jitter
 * backoff, until a terminal close code, a refused token or `close()` ends it for good. It knows
 * nothing of requests: the client hears `open`, `message` and `lost` from it.
 */

import { Backoff, type BackoffOptions } from "./backoff.js";
import { ClientClosed, ProtocolMismatch, UnauthorizedError, type BeeflowError } from "./errors.js";
import { SUBPROTOCOL, messageText } from "./frames.js";
import { Heartbeat, type HeartbeatOptions } from "./heartbeat.js";
import type { Timers } from "./timers.js";
import { subprotocols, type TokenSource } from "./token.js";

/**
 * What the client needs of a WebSocket: the browser's, Node 22's global one, or the `ws` package's.
 * The handler properties are `unknown` so that any implementation's own handler types fit.
 */
export interface WebSocketLike {
  readonly protocol: string;
  readonly readyState: number;
  onopen: unknown;
  onmessage: unknown;
  onclose: unknown;
  onerror: unknown;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

export type Status = "connecting" | "open" | "reconnecting" | "closed";

/** Why the client is closed: by `close()`, a terminal close code, or an error (token, protocol). */
export interface CloseReason {
  /** The server's close code when it ended the client (1008, 4401, 4403, 4409), else null. */
  readonly code: number | null;
  readonly reason: string;
  /** The error that ended the client, when one did (`UnauthorizedError`, `ProtocolMismatch`, ...). */
  readonly error: BeeflowError | null;
}

/**
 * Close codes after which reconnecting cannot help: policy violation, refused, kicked. Every other
 * code is followed by a reconnect, 4410 ("missed stream events: resume") among them: the new
 * connection resumes what the old one missed.
 */
export const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set([1008, 4401, 4403, 4409]);

const OPEN = 1;

export interface ConnectionOptions {
  readonly url: string;
  readonly WebSocket: WebSocketConstructor;
  readonly tokens: TokenSource;
  readonly backoff?: BackoffOptions | undefined;
  readonly connectTimeout: number;
  readonly heartbeat: HeartbeatOptions | false;
  readonly timers: Timers;
  readonly random?: (() => number) | undefined;
}

export interface ConnectionEvents {
  status(status: Status): void;
  open(): void;
  message(text: string): void;
  /**
   * An open connection was lost (`code` is the server's close code, null when the client dropped it).
   * `reconnects` is false when the code is terminal: `closed` follows at once, so a request kept to be
   * sent again would have nowhere to go.
   */
  lost(code: number | null, reconnects: boolean): void;
  /** The connection ended for good. */
  closed(reason: CloseReason): void;
  error(error: unknown): void;
}

function noop(): void {}

export class Connection {
  private socket: WebSocketLike | null = null;
  private current: Status = "connecting";
  private readonly backoff: Backoff;
  private readonly heartbeat: Heartbeat | null;
  private retryTimer: unknown = null;
  private connectTimer: unknown = null;
  private started = false;
  /** The last close code the server sent, on any connection of this client. */
  lastCloseCode: number | null = null;
  closeReason: CloseReason | null = null;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.backoff = new Backoff(options.backoff, options.random);
    this.heartbeat =
      options.heartbeat === false
        ? null
        : new Heartbeat(
            options.heartbeat,
            options.timers,
            () => this.sendPing(),
            () => this.drop(),
          );
  }

  /** Set by the client: sends `beeflow.ping` on the open connection. */
  sendPing: () => void = noop;

  get status(): Status {
    return this.current;
  }

  private get closed(): boolean {
    return this.current === "closed";
  }

  get isOpen(): boolean {
    return this.current === "open" && this.socket !== null && this.socket.readyState === OPEN;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.attempt();
  }

  /** Sends a text frame; false when there is no open connection. */
  send(text: string): boolean {
    if (!this.isOpen || this.socket === null) return false;
    try {
      this.socket.send(text);
      return true;
    } catch (error) {
      this.events.error(error);
      return false;
    }
  }

  /** Ends the connection for good. */
  close(reason: CloseReason = { code: null, reason: "closed by the client", error: null }): void {
    if (this.closed) return;
    const socket = this.socket;
    this.socket = null;
    this.clearTimers();
    this.heartbeat?.stop();
    if (socket !== null) this.abandon(socket, 1000, "client closed");
    this.closeReason = reason;
    this.setStatus("closed");
    this.events.closed(reason);
  }

  private setStatus(status: Status): void {
    if (this.current === status) return;
    this.current = status;
    this.events.status(status);
  }

  private async attempt(): Promise<void> {
    if (this.closed) return;
    let token: string | null;
    try {
      token = await this.options.tokens.get();
    } catch (error) {
      if (this.closed) return;
      if (error instanceof UnauthorizedError) {
        this.close({ code: null, reason: error.message, error });
      } else {
        this.events.error(error);
        this.retry();
      }
      return;
    }
    if (this.closed) return;
    if (token === null && this.options.tokens.enabled) {
      const error = new UnauthorizedError();
      this.close({ code: null, reason: error.message, error });
      return;
    }
    let socket: WebSocketLike;
    try {
      socket = new this.options.WebSocket(this.options.url, subprotocols(token));
    } catch (error) {
      // A malformed URL or a refused scheme: no attempt will ever do better.
      const closed = new ClientClosed(`cannot open ${this.options.url}: ${String(error)}`);
      this.close({ code: null, reason: closed.message, error: closed });
      return;
    }
    this.socket = socket;
    let opened = false;
    let finished = false;
    const finish = (code: number | null, reason: string) => {
      if (finished) return;
      finished = true;
      this.clearConnectTimer();
      if (this.socket === socket) this.socket = null;
      this.abandon(socket);
      if (this.closed) return;
      if (code !== null) this.lastCloseCode = code;
      const terminal = code !== null && TERMINAL_CLOSE_CODES.has(code);
      if (opened) {
        this.heartbeat?.stop();
        this.events.lost(code, !terminal);
      }
      if (terminal) {
        this.close({ code, reason, error: null });
      } else {
        this.retry();
      }
    };
    this.connectTimer = this.options.timers.setTimeout(() => {
      this.connectTimer = null;
      finish(null, "connect timeout");
    }, this.options.connectTimeout);
    socket.onopen = () => {
      if (finished) return;
      this.clearConnectTimer();
      if (socket.protocol !== SUBPROTOCOL) {
        finished = true;
        this.socket = null;
        this.abandon(socket, 1000, "protocol v1 required");
        const error = new ProtocolMismatch(socket.protocol);
        this.close({ code: null, reason: error.message, error });
        return;
      }
      opened = true;
      this.backoff.reset();
      this.setStatus("open");
      this.heartbeat?.start();
      this.events.open();
    };
    socket.onmessage = (event: { data?: unknown }) => {
      if (finished) return;
      this.heartbeat?.received();
      const text = messageText(event.data);
      if (text !== null) this.events.message(text);
    };
    socket.onclose = (event: { code?: number; reason?: string }) => {
      finish(typeof event.code === "number" ? event.code : null, event.reason ?? "");
    };
    socket.onerror = () => {
      // A failed handshake reports an error, then (usually) a close; one of them is enough.
      finish(null, "socket error");
    };
    // A drop by the heartbeat goes through the same path as a close.
    this.dropCurrent = () => finish(null, "heartbeat timeout");
  }

  private dropCurrent: () => void = noop;

  /** The heartbeat saw no answer: drop the socket at once, without waiting for a close handshake. */
  private drop(): void {
    this.dropCurrent();
  }

  private retry(): void {
    if (this.closed) return;
    this.setStatus("reconnecting");
    const wait = this.backoff.next();
    this.retryTimer = this.options.timers.setTimeout(() => {
      this.retryTimer = null;
      void this.attempt();
    }, wait);
  }

  /** Detaches every handler and closes the socket without waiting for its close handshake. */
  private abandon(socket: WebSocketLike, code?: number, reason?: string): void {
    socket.onopen = noop;
    socket.onmessage = noop;
    socket.onclose = noop;
    // Some implementations (ws) throw an unhandled 'error' event when closed while connecting.
    socket.onerror = noop;
    try {
      const terminate = (socket as { terminate?: unknown }).terminate;
      if (typeof terminate === "function" && code === undefined) terminate.call(socket);
      else socket.close(code, reason);
    } catch {
      // Already closing or closed.
    }
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) this.options.timers.clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private clearTimers(): void {
    this.clearConnectTimer();
    if (this.retryTimer !== null) this.options.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
