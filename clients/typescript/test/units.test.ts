/** The small pieces on their own: backoff, single-flight tokens, the request table, streams, heartbeat. */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Backoff } from "../src/backoff.js";
import { BeeflowProblem, QueueFull, type BeeflowError } from "../src/errors.js";
import type { EventFrame } from "../src/frames.js";
import { Heartbeat } from "../src/heartbeat.js";
import { Positions, lostStreams, positionOf } from "../src/positions.js";
import { RequestTable, type Entry, type RequestSink } from "../src/requests.js";
import { EventStream } from "../src/streams.js";
import { TokenSource, subprotocols } from "../src/token.js";
import { FakeTimers, event, problem } from "./helpers.js";

describe("backoff", () => {
  test("full jitter between 0 and min(max, initial * 2^attempt)", () => {
    const backoff = new Backoff({ initial: 500, max: 20_000 }, () => 0.999999);
    const waits = Array.from({ length: 8 }, () => backoff.next());
    assert.deepEqual(waits, [499, 999, 1999, 3999, 7999, 15_999, 19_999, 19_999]);
    assert.equal(backoff.ceiling(2000), 20_000);
    backoff.reset();
    assert.equal(backoff.next(), 499);
  });

  test("defaults, and a zero random draw waits not at all", () => {
    const backoff = new Backoff({}, () => 0);
    assert.equal(backoff.initial, 500);
    assert.equal(backoff.max, 20_000);
    assert.equal(backoff.next(), 0);
    assert.equal(backoff.attempts, 1);
  });

  test("spreads waits over the whole range", () => {
    const backoff = new Backoff({ initial: 1000, max: 1000 });
    const waits = Array.from({ length: 200 }, () => backoff.next());
    assert.ok(waits.every((wait) => wait >= 0 && wait < 1000));
    assert.ok(Math.min(...waits) < 250 && Math.max(...waits) > 750);
  });
});

describe("tokens", () => {
  test("concurrent calls share one pending call; the next round calls again", async () => {
    let calls = 0;
    let release: (token: string) => void = () => {};
    const source = new TokenSource(() => {
      calls += 1;
      return new Promise<string>((resolve) => (release = resolve));
    });
    const first = source.get();
    const second = source.get();
    assert.equal(first, second);
    assert.equal(calls, 1);
    release("t1");
    assert.equal(await first, "t1");
    assert.equal(await second, "t1");
    const third = source.get();
    assert.equal(calls, 2);
    release("t2");
    assert.equal(await third, "t2");
    assert.equal(source.calls, 2);
  });

  test("a failed call is not kept", async () => {
    let calls = 0;
    const source = new TokenSource(async () => {
      calls += 1;
      if (calls === 1) throw new Error("down");
      return "ok";
    });
    await assert.rejects(source.get(), /down/);
    assert.equal(await source.get(), "ok");
  });

  test("the subprotocols carry the token beside its marker", () => {
    assert.deepEqual(subprotocols(null), ["beeflow.v1"]);
    assert.deepEqual(subprotocols("abc"), ["beeflow.v1", "access-token", "abc"]);
  });
});

function recorder() {
  const seen: string[] = [];
  const sink: RequestSink = {
    event: (frame) => seen.push(`event ${frame.event}`),
    complete: (frame) => seen.push(`complete ${frame.event}`),
    fail: (error: BeeflowError) => seen.push(`fail ${error instanceof BeeflowProblem ? error.code : error.name}`),
    problem: (found) => seen.push(`problem ${found.code}`),
  };
  return { seen, sink };
}

function entry(reqId: string, sink: RequestSink, state: Entry["state"] = "sent", retry = false): Entry {
  return { reqId, action: "a", text: "{}", retry, state, sink, cleanup: () => {} };
}

describe("request table", () => {
  test("routes frames with final to their request, the rest to the listeners", () => {
    const table = new RequestTable(10);
    const { seen, sink } = recorder();
    table.add(entry("r1", sink));
    const frame = (extra: object) => event("e", {}, extra) as unknown as EventFrame;
    assert.equal(table.routeEvent(frame({ req_id: "r1", final: false })), "request");
    assert.equal(table.routeEvent(frame({ req_id: "r1" })), "listeners");
    assert.equal(table.routeEvent(frame({})), "listeners");
    assert.equal(table.routeEvent(frame({ req_id: "r2", final: true })), "stale");
    assert.equal(table.routeEvent(frame({ req_id: "r1", final: true })), "request");
    assert.equal(table.size, 0);
    assert.deepEqual(seen, ["event e", "complete e"]);
  });

  test("problems: non-final goes on, final ends, unknown is unowned, forgotten is stale", () => {
    const table = new RequestTable(10);
    const { seen, sink } = recorder();
    table.add(entry("r1", sink));
    const frame = (code: string, extra: Record<string, unknown>) => problem(code, 500, extra) as never;
    assert.equal(table.routeProblem(frame("delivery_unavailable", { req_id: "r1", final: false })).route, "progress");
    assert.equal(table.routeProblem(frame("internal_error", { req_id: "r1", final: true })).route, "terminal");
    assert.equal(table.routeProblem(frame("invalid_websocket_message", {})).route, "unowned");
    table.forget("r9");
    assert.equal(table.routeProblem(frame("request_cancelled", { req_id: "r9", final: true })).route, "stale");
    assert.equal(table.routeProblem(frame("request_cancelled", { req_id: "r9", final: true })).route, "unowned");
    assert.deepEqual(seen, ["problem delivery_unavailable", "fail internal_error"]);
  });

  test("the queue is bounded; a lost connection ends what was sent, not what waits", () => {
    const table = new RequestTable(1);
    const sent = recorder();
    const queued = recorder();
    table.add(entry("sent", sent.sink));
    table.add(entry("queued", queued.sink, "queued"));
    assert.throws(() => table.add(entry("over", recorder().sink, "queued")), QueueFull);
    table.lose(() => new QueueFull(0));
    assert.deepEqual(sent.seen, ["fail QueueFull"]);
    assert.deepEqual(table.waiting().map((one) => one.reqId), ["queued"]);
    table.markSent(table.waiting()[0] as Entry);
    assert.equal(table.queueLength, 0);
  });

  test("a loss keeps what was sent with retry, first in line and outside the queue's bound", () => {
    const table = new RequestTable(1);
    const kept = recorder();
    const ended = recorder();
    table.add(entry("queued-before", recorder().sink, "queued"));
    table.markSent(table.waiting()[0] as Entry);
    table.add(entry("retried", kept.sink, "sent", true));
    table.add(entry("plain", ended.sink));
    table.add(entry("queued", recorder().sink, "queued"));
    table.lose(() => new QueueFull(0));
    assert.deepEqual(ended.seen, ["fail QueueFull"]);
    assert.deepEqual(kept.seen, [], "a retried request does not end");
    assert.deepEqual(
      table.waiting().map((one) => [one.reqId, one.state]),
      [["retried", "retrying"], ["queued", "queued"]],
    );
    assert.equal(table.queueLength, 1, "the retried one is not counted against queueLimit");
    // A frame for it before it is sent again belongs to no request of this connection.
    const frame = event("e", {}, { req_id: "retried", final: true }) as unknown as EventFrame;
    assert.equal(table.routeEvent(frame), "stale");
    assert.deepEqual(kept.seen, []);
  });

  test("a loss with no reconnect to follow ends retried requests too", () => {
    const table = new RequestTable(10);
    const kept = recorder();
    table.add(entry("retried", kept.sink, "sent", true));
    table.failSent(() => new QueueFull(0));
    assert.deepEqual(kept.seen, ["fail QueueFull"]);
    assert.equal(table.size, 0);
  });
});

describe("event stream", () => {
  test("buffers, ends, fails once, and reports an early return once", async () => {
    let returned = 0;
    const stream = new EventStream<number>(() => (returned += 1));
    stream.push(1);
    stream.push(2);
    assert.deepEqual(await stream.next(), { value: 1, done: false });
    stream.fail(new Error("boom"));
    assert.deepEqual(await stream.next(), { value: 2, done: false });
    await assert.rejects(stream.next(), /boom/);
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
    assert.equal(returned, 0, "a stream that ended is not cancelled");
    const other = new EventStream<number>(() => (returned += 1));
    const waiting = other.next();
    await other.return();
    await other.return();
    assert.deepEqual(await waiting, { value: undefined, done: true });
    assert.equal(returned, 1);
  });
});

describe("heartbeat", () => {
  test("pings after interval of silence; dead after timeout with no frame", async () => {
    const timers = new FakeTimers();
    const log: string[] = [];
    const heartbeat = new Heartbeat({ interval: 100, timeout: 50 }, timers, () => log.push("ping"), () => log.push("dead"));
    heartbeat.start();
    await timers.advance(99);
    heartbeat.received();
    await timers.advance(99);
    assert.deepEqual(log, []);
    await timers.advance(1);
    assert.deepEqual(log, ["ping"]);
    heartbeat.received();
    await timers.advance(100);
    assert.deepEqual(log, ["ping", "ping"]);
    await timers.advance(50);
    assert.deepEqual(log, ["ping", "ping", "dead"]);
    await timers.advance(1000);
    assert.deepEqual(log, ["ping", "ping", "dead"], "nothing after dead");
    assert.equal(timers.count, 0);
  });

  test("stop clears its timers", () => {
    const timers = new FakeTimers();
    const heartbeat = new Heartbeat({}, timers, () => {}, () => {});
    heartbeat.start();
    assert.equal(heartbeat.interval, 25_000);
    assert.equal(heartbeat.timeout, 10_000);
    heartbeat.stop();
    assert.equal(timers.count, 0);
  });
});

describe("stream positions", () => {
  const at = (offset: number, name = "room:1", epoch = "e1") => ({ name, epoch, offset });

  test("delivers what comes after the position, drops what does not; a new epoch starts again", () => {
    const positions = new Positions<string>();
    assert.equal(positions.offer(at(1), "a"), "deliver");
    assert.equal(positions.offer(at(2), "b"), "deliver");
    assert.equal(positions.offer(at(2), "b again"), "duplicate");
    assert.equal(positions.offer(at(1), "a again"), "duplicate");
    assert.equal(positions.offer(at(1, "~user:7"), "other stream"), "deliver");
    assert.equal(positions.offer(at(1, "room:1", "e2"), "history lost"), "deliver");
    assert.deepEqual(positions.snapshot(), { "room:1": { epoch: "e2", offset: 1 }, "~user:7": { epoch: "e1", offset: 1 } });
  });

  test("holds events back and hands them out per stream in offset order, without duplicates", () => {
    const positions = new Positions<string>();
    positions.set("room:1", { epoch: "e1", offset: 5 });
    positions.startHolding();
    assert.ok(positions.holding);
    for (const [offset, item] of [[10, "live 10"], [11, "live 11"], [6, "r6"], [5, "old 5"], [7, "r7"]] as const) {
      assert.equal(positions.offer(at(offset), item), "held");
    }
    assert.equal(positions.offer(at(3, "~user:7"), "u3"), "held");
    for (const [offset, item] of [[8, "r8"], [9, "r9"], [10, "r10"], [11, "r11"]] as const) positions.offer(at(offset), item);
    assert.deepEqual(positions.snapshot(), { "room:1": { epoch: "e1", offset: 5 } }, "nothing moves while held");
    assert.deepEqual(positions.release(), ["r6", "r7", "r8", "r9", "live 10", "live 11", "u3"]);
    assert.equal(positions.holding, false);
    assert.deepEqual(positions.snapshot()["room:1"], { epoch: "e1", offset: 11 });
    assert.deepEqual(positions.release(), [], "released once");
    assert.equal(positions.offer(at(12), "live 12"), "deliver");
  });

  test("an event a request took counts as handed out: the same offset replayed is a duplicate", () => {
    const positions = new Positions<string>();
    positions.set("room:1", { epoch: "e1", offset: 1 });
    positions.startHolding();
    positions.offer(at(3), "r3");
    positions.passed(at(3));
    positions.offer(at(2), "r2");
    assert.deepEqual(positions.release(), ["r2"]);
    assert.deepEqual(positions.snapshot()["room:1"], { epoch: "e1", offset: 3 });
    positions.passed(at(4));
    assert.equal(positions.offer(at(4), "r4"), "duplicate");
  });

  test("a position set for a stream to reload drops what it covers", () => {
    const positions = new Positions<string>();
    positions.set("room:1", { epoch: "e1", offset: 130 });
    positions.startHolding();
    for (const offset of [2, 3, 4]) positions.offer(at(offset, "room:1", "e2"), `e2:${offset}`);
    positions.set("room:1", { epoch: "e2", offset: 3 });
    assert.deepEqual(positions.release(), ["e2:4"]);
  });

  test("resumable positions leave out streams without an epoch; snapshots are copies", () => {
    const positions = new Positions<string>();
    positions.set("room:1", { epoch: "e1", offset: 4 });
    positions.set("room:2", { epoch: "", offset: 0 });
    assert.deepEqual(positions.resumable(), [{ name: "room:1", epoch: "e1", offset: 4 }]);
    const snapshot = positions.snapshot() as Record<string, { epoch: string; offset: number }>;
    snapshot["room:1"] = { epoch: "x", offset: 99 };
    assert.deepEqual(positions.snapshot()["room:1"], { epoch: "e1", offset: 4 });
  });

  test("reads positions and lost streams defensively", () => {
    assert.deepEqual(positionOf({ name: "g", epoch: "e", offset: 3 }), { name: "g", epoch: "e", offset: 3 });
    assert.equal(positionOf({ name: "g", epoch: "e", offset: "3" }), null);
    assert.equal(positionOf({ name: "g", epoch: "e", offset: 1.5 }), null);
    assert.equal(positionOf(undefined), null);
    assert.equal(positionOf([1]), null);
    assert.deepEqual(
      lostStreams([{ name: "g", epoch: "e", offset: 3, reason: "expired" }, { name: "bad" }, 7]),
      [{ name: "g", epoch: "e", offset: 3, reason: "expired" }],
    );
    assert.deepEqual(lostStreams(undefined), []);
  });
});
