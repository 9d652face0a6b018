#!/usr/bin/env node
// The conformance driver of the TypeScript client: the shared test suite
// (tests-integration/clients/) starts it as `node clients/typescript/conformance/driver.mjs` and
// drives the built client (../dist/) through JSON lines on stdin/stdout, as
// tests-integration/clients/DRIVER.md describes. Durations arrive in seconds and become the
// client's milliseconds here. Only replies go to stdout; diagnostics go to stderr.

import { createInterface } from "node:readline";
import WebSocket from "ws";
import {
  BeeflowClient,
  BeeflowProblem,
  ClientClosed,
  ConnectionLost,
  QueueFull,
  RequestAborted,
  RequestTimeout,
  UnauthorizedError,
} from "../dist/index.js";

/** A WebSocket class that sends `origin` as the handshake's Origin header (the sites check it). */
function withOrigin(origin) {
  return class OriginWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, origin ? { origin } : {});
    }
  };
}

const ms = (seconds) => seconds * 1000;

/** The driver's view of a frame. */
function normalise(frame) {
  return {
    event: frame.event,
    payload: frame.payload,
    seq: frame.seq,
    req_id: typeof frame.req_id === "string" ? frame.req_id : null,
    stream:
      frame.stream === undefined || frame.stream === null
        ? null
        : { name: frame.stream.name, epoch: frame.stream.epoch, offset: frame.stream.offset },
  };
}

function failure(error) {
  if (error instanceof BeeflowProblem) {
    return {
      problem: {
        code: error.code,
        status: error.status,
        title: error.title,
        detail: error.detail,
        errors: error.errors,
        // The problem's `outcome` member (duplicate_request's), else null.
        outcome: typeof error.frame.outcome === "string" ? error.frame.outcome : null,
      },
    };
  }
  if (error instanceof RequestTimeout) return { error: "timeout" };
  if (error instanceof RequestAborted) return { error: "aborted" };
  if (error instanceof ConnectionLost) return { error: "connection_lost" };
  if (error instanceof QueueFull) return { error: "queue_full" };
  if (error instanceof UnauthorizedError) return { error: "unauthorized" };
  if (error instanceof ClientClosed) return { error: "closed" };
  return { error: `other:${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}` };
}

let client = null;
let state = null;

function reply(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function connect(command) {
  if (client !== null) client.close();
  const tokens = Array.isArray(command.tokens) && command.tokens.length > 0 ? command.tokens : [null];
  const current = { statuses: [], gaps: [], recorded: new Map(), calls: 0, resyncs: [] };
  state = current;
  const options = {
    url: command.url,
    WebSocket: withOrigin(command.origin),
    getToken: async () => {
      const token = tokens[Math.min(current.calls, tokens.length - 1)];
      current.calls += 1;
      if (token === null) throw new UnauthorizedError();
      return token;
    },
    onGap: (gap) => current.gaps.push({ expected: gap.expected, received: gap.received }),
    onResyncNeeded: (streams) =>
      current.resyncs.push(
        streams.map(({ name, epoch, offset, reason }) => ({ name, epoch, offset, reason })),
      ),
    onProblem: (problem) => console.error("driver: problem outside a request's end:", problem.code, problem.detail),
    onError: (error) => console.error("driver: client error:", error),
  };
  if (command.heartbeat === null) options.heartbeat = false;
  else if (command.heartbeat !== undefined) {
    options.heartbeat = { interval: ms(command.heartbeat.interval), timeout: ms(command.heartbeat.timeout) };
  }
  if (command.backoff) options.backoff = { initial: ms(command.backoff.initial), max: ms(command.backoff.max) };
  if (typeof command.request_timeout === "number") options.requestTimeout = ms(command.request_timeout);
  if (typeof command.connect_timeout === "number") options.connectTimeout = ms(command.connect_timeout);
  if (typeof command.queue_limit === "number") options.queueLimit = command.queue_limit;
  let created = null;
  if (Array.isArray(command.rejoin)) {
    const rejoin = command.rejoin;
    // Re-joins the groups in order, each awaited; a refused one fails the hook (reported to onError).
    options.beforeResume = async () => {
      for (const { action, payload } of rejoin) await created.request(action, payload ?? {});
    };
  }
  created = new BeeflowClient(options);
  client = created;
  current.statuses.push(client.status);
  client.onStatus((status) => current.statuses.push(status));
  return { ok: true };
}

function waitStatus(command) {
  const wanted = command.status;
  const subject = client;
  if (subject.status === wanted) return Promise.resolve({ ok: true, status: wanted });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      unsubscribe();
      resolve({ ok: false, status: subject.status });
    }, ms(command.timeout ?? 10));
    const unsubscribe = subject.onStatus((status) => {
      if (status !== wanted) return;
      clearTimeout(timer);
      unsubscribe();
      resolve({ ok: true, status });
    });
  });
}

async function request(command, signal) {
  const options = {};
  if (typeof command.timeout === "number") options.timeout = ms(command.timeout);
  if (signal !== undefined) options.signal = signal;
  if (command.retry === true) options.retry = true;
  try {
    const events = await client.request(command.action, command.payload ?? {}, options);
    return { ok: true, events: events.map(normalise) };
  } catch (error) {
    return { ok: false, ...failure(error) };
  }
}

async function stream(command) {
  const events = [];
  try {
    for await (const event of client.stream(command.action, command.payload ?? {})) {
      events.push(normalise(event));
      if (typeof command.break_after === "number" && events.length >= command.break_after) break;
    }
    return { ok: true, events };
  } catch (error) {
    return { ok: false, ...failure(error), events };
  }
}

function abort(command) {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), ms(command.after ?? 0));
  return request(command, controller.signal);
}

function listen(command) {
  const recorded = state.recorded.get(command.event) ?? [];
  state.recorded.set(command.event, recorded);
  let calls = 0;
  client.on(command.event, (event) => {
    calls += 1;
    recorded.push(normalise(event));
    if (command.throw_first && calls === 1) throw new Error("driver: a listener that throws on its first event");
  });
  return { ok: true };
}

function snapshot() {
  return {
    ok: true,
    status: client.status,
    statuses: [...state.statuses],
    token_calls: client.tokenCalls,
    gaps: [...state.gaps],
    close_code: client.lastCloseCode,
    recovered: client.recovered,
    resyncs: state.resyncs.map((streams) => [...streams]),
    positions: client.positions,
  };
}

async function handle(command) {
  if (command.op === "connect") return connect(command);
  if (client === null) return { ok: false, error: "other:no client: send connect first" };
  switch (command.op) {
    case "wait_status":
      return waitStatus(command);
    case "request":
      return request(command);
    case "stream":
      return stream(command);
    case "abort":
      return abort(command);
    case "listen":
      return listen(command);
    case "received":
      return { ok: true, events: [...(state.recorded.get(command.event) ?? [])] };
    case "state":
      return snapshot();
    case "close":
      client.close();
      return { ok: true };
    default:
      return { ok: false, error: `other:unknown op ${JSON.stringify(command.op)}` };
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  if (line.trim() === "") return;
  let command;
  try {
    command = JSON.parse(line);
  } catch (error) {
    console.error("driver: unreadable command:", line);
    return;
  }
  Promise.resolve()
    .then(() => handle(command))
    .catch((error) => ({ ok: false, error: `other:${error instanceof Error ? error.message : String(error)}` }))
    .then((result) => reply({ id: command.id, ...result }));
});
lines.on("close", () => {
  if (client !== null) client.close();
  // Replies of requests that the close just ended are written first.
  setTimeout(() => process.exit(0), 50);
});
