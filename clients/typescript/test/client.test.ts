/** The client against a fake socket and a hand-driven clock: requests, streams, queue, reconnects. */

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import {
  BeeflowClient,
  BeeflowProblem,
  ClientClosed,
  ConnectionLost,
  ProtocolMismatch,
  QueueFull,
  RequestAborted,
  RequestTimeout,
  UnauthorizedError,
  type ClientOptions,
  type Gap,
} from "../src/index.js";
import { FakeSocket, FakeTimers, event, problem, settle } from "./helpers.js";

function setup(options: Partial<ClientOptions> = {}) {
  FakeSocket.reset();
  const timers = new FakeTimers();
  const errors: unknown[] = [];
  const problems: BeeflowProblem[] = [];
  const gaps: Gap[] = [];
  const client = new BeeflowClient({
    url: "ws://example.test/ws/",
    WebSocket: FakeSocket,
    timers,
    random: () => 0.5,
    heartbeat: false,
    onError: (error) => errors.push(error),
    onProblem: (found) => problems.push(found),
    onGap: (gap) => gaps.push(gap),
    ...options,
  });
  const statuses: string[] = [client.status];
  client.onStatus((status) => statuses.push(status));
  return { client, timers, errors, problems, gaps, statuses };
}

async function opened(options: Partial<ClientOptions> = {}) {
  const context = setup(options);
  await settle();
  FakeSocket.last.open();
  return { ...context, socket: FakeSocket.last };
}

function reqIdOf(frame: Record<string, unknown> | undefined): string {
  assert.ok(frame !== undefined, "a frame was sent");
  return frame["req_id"] as string;
}

beforeEach(() => FakeSocket.reset());

describe("connecting", () => {
  test("offers beeflow.v1 and the token as subprotocols, never in the URL", async () => {
    const { client, statuses } = setup({ getToken: async () => "secret-token" });
    await settle();
    assert.deepEqual(FakeSocket.last.protocols, ["beeflow.v1", "access-token", "secret-token"]);
    assert.equal(FakeSocket.last.url, "ws://example.test/ws/");
    FakeSocket.last.open();
    assert.equal(client.status, "open");
    assert.deepEqual(statuses, ["connecting", "open"]);
    client.close();
  });

  test("offers beeflow.v1 alone without getToken", async () => {
    const { client } = setup();
    await settle();
    assert.deepEqual(FakeSocket.last.protocols, ["beeflow.v1"]);
    client.close();
  });

  test("a server that does not select beeflow.v1 ends the client", async () => {
    const { client } = setup();
    await settle();
    FakeSocket.last.open("access-token");
    assert.equal(client.status, "closed");
    assert.ok(client.closeReason?.error instanceof ProtocolMismatch);
    await assert.rejects(client.request("echo", {}), (error) => error instanceof ClientClosed && error.cause instanceof ProtocolMismatch);
    assert.equal(FakeSocket.instances.length, 1);
  });

  test("a failed handshake is retried with backoff and a fresh token", async () => {
    let calls = 0;
    const { client, timers, statuses } = setup({ getToken: async () => `t${++calls}` });
    await settle();
    FakeSocket.last.fail();
    assert.equal(client.status, "reconnecting");
    await timers.advance(249); // random 0.5 of the 500 ms ceiling
    assert.equal(FakeSocket.instances.length, 1);
    await timers.advance(1);
    assert.equal(FakeSocket.instances.length, 2);
    assert.deepEqual(FakeSocket.last.protocols, ["beeflow.v1", "access-token", "t2"]);
    FakeSocket.last.fail();
    await timers.advance(500); // 0.5 of 1000
    assert.equal(FakeSocket.instances.length, 3);
    FakeSocket.last.open();
    assert.deepEqual(statuses, ["connecting", "reconnecting", "open"]);
    client.close();
  });

  test("an attempt that does not open within connectTimeout is abandoned and retried", async () => {
    const { client, timers } = setup({ connectTimeout: 1000 });
    await settle();
    const first = FakeSocket.last;
    await timers.advance(1000);
    assert.ok(first.terminated, "the silent attempt is dropped");
    assert.equal(client.status, "reconnecting");
    await timers.advance(250);
    assert.equal(FakeSocket.instances.length, 2);
    client.close();
  });

  for (const code of [1008, 4401, 4403, 4409]) {
    test(`close code ${code} is terminal`, async () => {
      const { client, socket, timers } = await opened();
      const pending = client.request("echo", {});
      socket.serverClose(code, "go away");
      await assert.rejects(pending, ConnectionLost);
      assert.equal(client.status, "closed");
      assert.equal(client.closeReason?.code, code);
      assert.equal(client.lastCloseCode, code);
      await timers.advance(60_000);
      assert.equal(FakeSocket.instances.length, 1);
    });
  }

  test("getToken returning null closes the client for good", async () => {
    const { client, timers } = setup({ getToken: async () => null });
    await settle();
    assert.equal(client.status, "closed");
    assert.ok(client.closeReason?.error instanceof UnauthorizedError);
    await timers.advance(60_000);
    assert.equal(FakeSocket.instances.length, 0);
    await assert.rejects(client.request("echo", {}), (error) => error instanceof ClientClosed && error.cause instanceof UnauthorizedError);
  });

  test("getToken throwing UnauthorizedError closes; other errors are retried", async () => {
    let calls = 0;
    const { client, timers, errors } = setup({
      getToken: async () => {
        calls += 1;
        if (calls === 1) throw new Error("token endpoint down");
        if (calls === 2) return "t";
        throw new UnauthorizedError();
      },
    });
    await settle();
    assert.equal(client.status, "reconnecting");
    assert.equal(errors.length, 1);
    await timers.advance(250);
    FakeSocket.last.open();
    FakeSocket.last.serverClose(1011);
    await timers.advance(250);
    assert.equal(client.status, "closed");
    assert.ok(client.closeReason?.error instanceof UnauthorizedError);
    assert.equal(client.tokenCalls, 3);
  });

  test("after a loss it reconnects, and in-flight requests reject with ConnectionLost", async () => {
    const { client, socket, timers, statuses } = await opened();
    const pending = client.request("echo", {});
    socket.serverClose(1011);
    await assert.rejects(pending, (error: unknown) => error instanceof ConnectionLost && error.closeCode === 1011);
    assert.equal(client.lastCloseCode, 1011);
    await timers.advance(250);
    FakeSocket.last.open();
    assert.deepEqual(statuses, ["connecting", "open", "reconnecting", "open"]);
    client.close();
  });

  test("close() ends everything with ClientClosed", async () => {
    const { client, socket } = await opened();
    const pending = client.request("echo", {});
    client.close();
    await assert.rejects(pending, ClientClosed);
    assert.equal(client.status, "closed");
    assert.equal(socket.closed?.code, 1000);
    await assert.rejects(client.request("echo", {}), ClientClosed);
  });
});

describe("requests", () => {
  test("resolve with their events at the terminal frame, without beeflow.complete", async () => {
    const { client, socket } = await opened();
    const pending = client.request("countdown", { from: 2 });
    const frame = socket.sent[0];
    assert.equal(frame?.["action"], "countdown");
    assert.deepEqual(frame?.["payload"], { from: 2 });
    assert.match(String(frame?.["msg_id"]), /^[0-9a-f-]{36}$/);
    const reqId = reqIdOf(frame);
    socket.receive(event("counted", { n: 2 }, { req_id: reqId, final: false }));
    socket.receive(event("counted", { n: 1 }, { req_id: reqId, final: false }));
    socket.receive(event("beeflow.complete", { events: 2 }, { req_id: reqId, final: true }));
    const events = await pending;
    assert.deepEqual(
      events.map((e) => e.payload),
      [{ n: 2 }, { n: 1 }],
    );
    client.close();
  });

  test("a final application event is included", async () => {
    const { client, socket } = await opened();
    const pending = client.request("echo", { a: 1 });
    socket.receive(event("echoed", { a: 1 }, { req_id: reqIdOf(socket.sent[0]), final: true }));
    const events = await pending;
    assert.equal(events.length, 1);
    assert.equal(events[0]?.event, "echoed");
    client.close();
  });

  test("a terminal problem rejects with a BeeflowProblem", async () => {
    const { client, socket } = await opened();
    const pending = client.request("reserve", {});
    const reqId = reqIdOf(socket.sent[0]);
    const errors = [{ loc: ["payload", "day"], msg: "Field required", type: "missing" }];
    socket.receive(problem("invalid_action_payload", 422, { req_id: reqId, final: true, errors }));
    await assert.rejects(pending, (error: unknown) => {
      assert.ok(error instanceof BeeflowProblem);
      assert.equal(error.code, "invalid_action_payload");
      assert.equal(error.status, 422);
      assert.equal(error.reqId, reqId);
      assert.deepEqual(error.errors, errors);
      assert.equal(error.type, "https://example.com/problems/invalid_action_payload");
      return true;
    });
    client.close();
  });

  test("a non-final problem is reported and the request goes on", async () => {
    const { client, socket, problems } = await opened();
    const own: BeeflowProblem[] = [];
    const pending = client.request("say", {}, { onProblem: (found) => own.push(found) });
    const reqId = reqIdOf(socket.sent[0]);
    socket.receive(problem("delivery_unavailable", 503, { req_id: reqId, final: false }));
    socket.receive(event("echoed", { said: 1 }, { req_id: reqId, final: true }));
    assert.equal((await pending).length, 1);
    assert.deepEqual(own.map((p) => p.code), ["delivery_unavailable"]);
    assert.deepEqual(problems.map((p) => p.code), ["delivery_unavailable"]);
    client.close();
  });

  test("a timeout rejects and sends beeflow.cancel; the late frames are dropped quietly", async () => {
    const { client, socket, timers, problems, errors } = await opened({ requestTimeout: 1000 });
    const pending = client.request("linger", {});
    const reqId = reqIdOf(socket.sent[0]);
    const rejected = assert.rejects(pending, RequestTimeout);
    await timers.advance(1000);
    await rejected;
    const cancel = socket.sent[1];
    assert.equal(cancel?.["action"], "beeflow.cancel");
    assert.deepEqual(cancel?.["payload"], { req_id: reqId });
    socket.receive(event("beeflow.complete", { events: 0 }, { req_id: reqIdOf(cancel), final: true }));
    socket.receive(problem("request_cancelled", 499, { req_id: reqId, final: true }));
    assert.deepEqual(problems, []);
    assert.deepEqual(errors, []);
    client.close();
  });

  test("an abort rejects and sends beeflow.cancel", async () => {
    const { client, socket } = await opened();
    const controller = new AbortController();
    const pending = client.request("linger", {}, { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, RequestAborted);
    assert.equal(socket.sent[1]?.["action"], "beeflow.cancel");
    await assert.rejects(client.request("echo", {}, { signal: controller.signal }), RequestAborted);
    assert.equal(socket.sent.length, 2, "an already aborted request is never sent");
    client.close();
  });

  test("requests made before open wait in the queue and are sent on open", async () => {
    const { client, timers } = setup({ queueLimit: 2, requestTimeout: 5000 });
    const first = client.request("echo", { n: 1 });
    const second = client.request("echo", { n: 2 });
    await assert.rejects(client.request("echo", { n: 3 }), QueueFull);
    await settle();
    await timers.advance(100);
    const socket = FakeSocket.last;
    socket.open();
    assert.deepEqual(
      socket.sent.map((frame) => frame["payload"]),
      [{ n: 1 }, { n: 2 }],
    );
    for (const frame of socket.sent) socket.receive(event("echoed", {}, { req_id: reqIdOf(frame), final: true }));
    assert.equal((await first).length, 1);
    assert.equal((await second).length, 1);
    client.close();
  });

  test("a queued request times out without ever being sent", async () => {
    const { client, timers } = setup({ requestTimeout: 1000 });
    const pending = client.request("echo", {});
    await settle();
    FakeSocket.last.fail();
    const rejected = assert.rejects(pending, RequestTimeout);
    await timers.advance(1000);
    await rejected;
    await timers.advance(10_000);
    FakeSocket.last.open();
    assert.deepEqual(FakeSocket.last.sent, []);
    client.close();
  });
});

describe("streams", () => {
  test("hand out events as they arrive and end at the terminal frame", async () => {
    const { client, socket } = await opened();
    const stream = client.stream("stream", { count: 2 });
    const reqId = reqIdOf(socket.sent[0]);
    socket.receive(event("streamed", { n: 0 }, { req_id: reqId, final: false }));
    const first = await stream.next();
    assert.deepEqual(first.value?.payload, { n: 0 });
    socket.receive(event("streamed", { n: 1 }, { req_id: reqId, final: true }));
    const seen = [];
    for await (const item of stream) seen.push(item.payload);
    assert.deepEqual(seen, [{ n: 1 }]);
    client.close();
  });

  test("breaking out of the loop sends beeflow.cancel", async () => {
    const { client, socket } = await opened();
    const stream = client.stream("stream", { count: 100 });
    const reqId = reqIdOf(socket.sent[0]);
    for (let n = 0; n < 3; n += 1) socket.receive(event("streamed", { n }, { req_id: reqId, final: false }));
    let count = 0;
    for await (const item of stream) {
      assert.equal(item.event, "streamed");
      count += 1;
      if (count === 2) break;
    }
    assert.equal(socket.sent[1]?.["action"], "beeflow.cancel");
    assert.deepEqual(socket.sent[1]?.["payload"], { req_id: reqId });
    client.close();
  });

  test("a terminal problem is thrown from the loop, after the events before it", async () => {
    const { client, socket } = await opened();
    const stream = client.stream("refuse", {});
    const reqId = reqIdOf(socket.sent[0]);
    socket.receive(event("echoed", { checking: "12A" }, { req_id: reqId, final: false }));
    socket.receive(problem("seat_taken", 409, { req_id: reqId, final: true }));
    const seen: unknown[] = [];
    await assert.rejects(async () => {
      for await (const item of stream) seen.push(item.payload);
    }, (error: unknown) => error instanceof BeeflowProblem && error.code === "seat_taken");
    assert.deepEqual(seen, [{ checking: "12A" }]);
    client.close();
  });

  test("an abort throws RequestAborted and sends beeflow.cancel", async () => {
    const { client, socket } = await opened();
    const controller = new AbortController();
    const stream = client.stream("stream", {}, { signal: controller.signal });
    const next = stream.next();
    controller.abort();
    await assert.rejects(next, RequestAborted);
    assert.equal(socket.sent[1]?.["action"], "beeflow.cancel");
    client.close();
  });
});

describe("inbound frames", () => {
  test("listeners get events that belong to no request of this client; a throwing one is isolated", async () => {
    const { client, socket, errors } = await opened();
    const said: unknown[] = [];
    const all: string[] = [];
    client.on("said", () => {
      throw new Error("listener bug");
    });
    const unsubscribe = client.on("said", (e) => said.push(e.payload));
    client.onAny((e) => all.push(e.event));
    socket.receive(event("said", { text: "one" }));
    socket.receive(event("said", { text: "two" }, { req_id: "other-connection-request" }));
    unsubscribe();
    socket.receive(event("said", { text: "three" }));
    assert.deepEqual(said, [{ text: "one" }, { text: "two" }]);
    assert.deepEqual(all, ["said", "said", "said"]);
    assert.equal(errors.length, 3);
    const pending = client.request("say", {});
    const reqId = reqIdOf(socket.sent[0]);
    socket.receive(event("said", { text: "mine" }, { req_id: reqId, final: false }));
    socket.receive(event("echoed", {}, { req_id: reqId, final: true }));
    assert.equal((await pending).length, 2);
    assert.deepEqual(all, ["said", "said", "said"], "a request's own frames are not the listeners'");
    client.close();
  });

  test("a break in seq is reported, and seq starts again on a new connection", async () => {
    const { client, socket, timers, gaps } = await opened();
    socket.receive(event("said", {}, { seq: 1 }));
    socket.receive(event("said", {}, { seq: 2 }));
    socket.receive(event("said", {}, { seq: 4 }));
    socket.receive(event("said", {}, { seq: 5 }));
    assert.deepEqual(gaps, [{ expected: 3, received: 4 }]);
    socket.serverClose(1012);
    await timers.advance(250);
    FakeSocket.last.open();
    FakeSocket.last.receive(event("said", {}, { seq: 1 }));
    assert.deepEqual(gaps, [{ expected: 3, received: 4 }]);
    client.close();
  });

  test("a problem that ends no request is reported", async () => {
    const { client, socket, problems, errors } = await opened();
    socket.receive(problem("invalid_websocket_message", 400));
    socket.receive("not json");
    assert.deepEqual(problems.map((p) => p.code), ["invalid_websocket_message"]);
    assert.equal(errors.length, 1);
    client.close();
  });
});

describe("heartbeat", () => {
  test("pings after silence and drops a connection that does not answer", async () => {
    const { client, socket, timers } = await opened({ heartbeat: { interval: 1000, timeout: 500 } });
    await timers.advance(999);
    assert.equal(socket.sent.length, 0);
    socket.receive(event("said", {})); // any frame counts as life
    await timers.advance(999);
    assert.equal(socket.sent.length, 0);
    await timers.advance(1);
    assert.equal(socket.sent[0]?.["action"], "beeflow.ping");
    assert.deepEqual(socket.sent[0]?.["payload"], {});
    const rejected = assert.rejects(client.request("echo", {}), ConnectionLost);
    await timers.advance(500);
    assert.ok(socket.terminated, "dropped at once, without a close handshake");
    assert.equal(client.status, "reconnecting");
    await rejected;
    await timers.advance(250);
    assert.equal(FakeSocket.instances.length, 2);
    client.close();
  });

  test("an answer to the ping keeps the connection", async () => {
    const { client, socket, timers } = await opened({ heartbeat: { interval: 1000, timeout: 500 } });
    await timers.advance(1000);
    const ping = socket.sent[0];
    socket.receive(event("beeflow.complete", { events: 0 }, { req_id: reqIdOf(ping), final: true }));
    await timers.advance(999);
    assert.equal(client.status, "open");
    assert.equal(socket.terminated, false);
    client.close();
  });
});
