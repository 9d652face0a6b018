/**
 * Liveness of an open connection. Browsers cannot see WebSocket pings, and a paused server (or a
 * dead NAT entry) leaves a socket that looks open forever; so any inbound frame counts as life, and
 * after `interval` of silence the client sends `beeflow.ping`, which the server answers at once. If
 * nothing at all arrives within `timeout` after that, the connection is declared dead.
 */

import type { Timers } from "./timers.js";

export interface HeartbeatOptions {
  /** Silence, in milliseconds, after which a ping is sent. Default 25000. */
  readonly interval?: number;
  /** How long, in milliseconds, to wait for any frame after a ping. Default 10000. */
  readonly timeout?: number;
}

export class Heartbeat {
  readonly interval: number;
  readonly timeout: number;
  private idleTimer: unknown = null;
  private deadTimer: unknown = null;
  private running = false;

  constructor(
    options: HeartbeatOptions,
    private readonly timers: Timers,
    private readonly ping: () => void,
    private readonly dead: () => void,
  ) {
    this.interval = options.interval ?? 25_000;
    this.timeout = options.timeout ?? 10_000;
  }

  /** The connection opened. */
  start(): void {
    this.running = true;
    this.received();
  }

  /** A frame arrived: the connection lives; the next ping waits a full interval again. */
  received(): void {
    if (!this.running) return;
    this.clear();
    this.idleTimer = this.timers.setTimeout(() => this.idle(), this.interval);
  }

  /** The connection closed or was dropped. */
  stop(): void {
    this.running = false;
    this.clear();
  }

  private idle(): void {
    this.idleTimer = null;
    if (!this.running) return;
    this.deadTimer = this.timers.setTimeout(() => {
      this.deadTimer = null;
      if (!this.running) return;
      this.stop();
      this.dead();
    }, this.timeout);
    this.ping();
  }

  private clear(): void {
    if (this.idleTimer !== null) this.timers.clearTimeout(this.idleTimer);
    if (this.deadTimer !== null) this.timers.clearTimeout(this.deadTimer);
    this.idleTimer = null;
    this.deadTimer = null;
  }
}
