/** Requests made with `retry`, against a fake socket and a hand-driven clock: sent again after a loss, unchanged. */

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import {
  BeeflowProblem,
  ClientClosed,
  ConnectionLost,
  QueueFull,
  RequestAborted,
  RequestTimeout,
  UnauthorizedError,
  type ClientOptions,
} from "../src/index.js";
import { FakeSocket, event, fakeClient, problem, reconnect, settle } from "./helpers.js";

const EPOCH = "18c2f1a0b3c4d";

async function opened(options: Partial<ClientOptions> = {}) {
  const context = fakeClient(options);
  await settle();
  FakeSocket.last.open();
  return { ...context, socket: FakeSocket.last };
}

function only(socket: FakeSocket, action: string): Record<string, unknown> {
  const frames = socket.actions().filter((frame) => frame["action"] === action);
  assert.equal(frames.length, 1, `one ${action} was sent`);
  return frames[0] as Record<string, unknown>;
}

/** Records how a promise settles, without letting a rejection go unhandled. */
function outcomeOf<T>(promise: Promise<T>): { settled: { value?: T; error?: unknown } | null } {
  const box: { settled: { value?: T; error?: unknown } | null } = { settled: null };
  promise.then(
    (value) => (box.settled = { value }),
    (error: unknown) => (box.settled = { error }),
  );
  return box;
}

beforeEach(() => FakeSocket.reset());

describe("a request made with retry", () => {
  test("is sent again unchanged after a reconnect and collects the events of both attempts", async () => {
    const { client, socket, timers } = await opened();
    const pending = client.request("countdown", { from: 3 }, { retry: true });
    const first = only(socket, "countdown");
    socket.receive(event("counted", { n: 3 }, { req_id: String(first["req_id"]), final: false }));
    const next = await reconnect(timers, socket);
    const again = only(next, "countdown");
    assert.deepEqual(again, first, "the very same envelope: msg_id, req_id, action, payload");
    next.receive(event("counted", { n: 2 }, { req_id: String(again["req_id"]), final: false }));
    next.receive(event("counted", { n: 1 }, { req_id: String(again["req_id"]), final: true }));
    const events = await pending;
    assert.deepEqual(
      events.map((frame) => frame.payload),
      [{ n: 3 }, { n: 2 }, { n: 1 }],
    );
    client.close();
  });

  test("while one without retry rejects with ConnectionLost", async () => {
    const { client, socket, timers } = await opened();
    const kept = outcomeOf(client.request("echo", { kept: true }, { retry: true }));
    const plain = client.request("echo", { kept: false });
    const explicit = client.request("echo", { kept: false }, { retry: false });
    socket.serverClose(1011);
    await assert.rejects(plain, (error: unknown) => error instanceof ConnectionLost && error.closeCode === 1011);
    await assert.rejects(explicit, ConnectionLost);
    await settle();
    assert.equal(kept.settled, null, "the retried request still waits");
    await timers.advance(250);
    FakeSocket.last.open();
    await settle();
    assert.deepEqual(
      FakeSocket.last.actions().map((frame) => frame["payload"]),
      [{ kept: true }],
    );
    client.close();
  });

  test("goes after beforeResume and the resume, before requests queued offline, in the order made", async () => {
    const hookDone: Array<() => void> = [];
    const { client, socket, timers } = await opened({
      beforeResume: async () => {
        await client.request("join", { group: "room:42" });
        await new Promise<void>((resolve) => hookDone.push(resolve));
      },
    });
    socket.receive(event("said", {}, { stream: { name: "room:42", epoch: EPOCH, offset: 5 } }));
    const a = client.request("echo", { n: "a" }, { retry: true });
    const plain = client.request("echo", { n: "plain" });
    const b = client.stream("echo", { n: "b" }, { retry: true });
    socket.serverClose(1012);
    await assert.rejects(plain, ConnectionLost);
    const queued = client.request("echo", { n: "queued" });
    await timers.advance(250);
    const next = FakeSocket.last;
    next.open();
    await settle();
    assert.deepEqual(
      next.actions().map((frame) => frame["action"]),
      ["join"],
      "nothing is sent again before beforeResume ends",
    );
    next.receive(event("joined", {}, { req_id: String(next.actions()[0]?.["req_id"]), final: true }));
    await settle();
    assert.deepEqual(next.actions().length, 1, "still inside beforeResume");
    hookDone.shift()?.();
    await settle();
    assert.deepEqual(
      next.actions().map((frame) => frame["action"] === "echo" ? (frame["payload"] as { n: string }).n : frame["action"]),
      ["join", "beeflow.resume", "a", "b", "queued"],
    );
    for (const frame of next.actions().slice(2)) {
      next.receive(event("echoed", {}, { req_id: String(frame["req_id"]), final: true }));
    }
    assert.equal((await a).length, 1);
    assert.equal((await queued).length, 1);
    const streamed = [];
    for await (const item of b) streamed.push(item.event);
    assert.deepEqual(streamed, ["echoed"]);
    client.close();
  });

  test("keeps its timeout across the reconnect", async () => {
    const { client, socket, timers } = await opened({ requestTimeout: 1000 });
    const pending = client.request("linger", {}, { retry: true });
    const rejected = assert.rejects(pending, RequestTimeout);
    await timers.advance(400);
    const next = await reconnect(timers, socket); // open again at 650 ms
    const again = only(next, "linger");
    await timers.advance(349);
    assert.equal(next.actions().length, 1, "not timed out yet at 999 ms");
    await timers.advance(1);
    await rejected;
    const cancel = only(next, "beeflow.cancel");
    assert.deepEqual(cancel["payload"], { req_id: again["req_id"] }, "the connection it is on is told to stop it");
    client.close();
  });

  test("timing out while it waits to be sent again sends nothing", async () => {
    const { client, socket, timers } = await opened({ requestTimeout: 1000 });
    const pending = client.request("linger", {}, { retry: true });
    const rejected = assert.rejects(pending, RequestTimeout);
    socket.serverClose(1012);
    await timers.advance(200);
    FakeSocket.last.fail(); // the next attempt fails: it waits on
    await timers.advance(800);
    await rejected;
    await timers.advance(10_000);
    FakeSocket.last.open();
    await settle();
    assert.deepEqual(FakeSocket.last.actions(), [], "neither the request nor a beeflow.cancel");
    assert.equal(socket.actions().length, 1, "nothing more on the lost connection either");
    client.close();
  });

  test("an abort while it waits to be sent again takes it out, and sends nothing", async () => {
    const { client, socket, timers } = await opened();
    const controller = new AbortController();
    const pending = client.request("linger", {}, { retry: true, signal: controller.signal });
    socket.serverClose(1012);
    controller.abort();
    await assert.rejects(pending, RequestAborted);
    await timers.advance(250);
    FakeSocket.last.open();
    await settle();
    assert.deepEqual(FakeSocket.last.actions(), []);
    client.close();
  });

  test("a stream hands out the new attempt's events after those of the first", async () => {
    const { client, socket, timers } = await opened();
    const stream = client.stream("stream", { count: 3 }, { retry: true });
    const reqId = String(only(socket, "stream")["req_id"]);
    socket.receive(event("streamed", { n: 0 }, { req_id: reqId, final: false }));
    assert.deepEqual((await stream.next()).value?.payload, { n: 0 });
    const next = await reconnect(timers, socket, 4410);
    assert.equal(only(next, "stream")["req_id"], reqId);
    next.receive(event("streamed", { n: 1 }, { req_id: reqId, final: false }));
    next.receive(event("streamed", { n: 2 }, { req_id: reqId, final: true }));
    const rest = [];
    for await (const item of stream) rest.push(item.payload);
    assert.deepEqual(rest, [{ n: 1 }, { n: 2 }]);
    client.close();
  });

  test("a heartbeat timeout is a loss like any other; lost twice, it is still the same request", async () => {
    const { client, socket, timers } = await opened({ heartbeat: { interval: 1000, timeout: 500 } });
    const pending = client.request("echo", {}, { retry: true, timeout: Infinity });
    const first = only(socket, "echo");
    await timers.advance(1500);
    assert.ok(socket.terminated, "dropped by the heartbeat");
    await timers.advance(250);
    const second = FakeSocket.last;
    second.open();
    await settle();
    assert.deepEqual(only(second, "echo"), first);
    const third = await reconnect(timers, second);
    assert.deepEqual(only(third, "echo"), first);
    third.receive(event("echoed", {}, { req_id: String(first["req_id"]), final: true }));
    assert.equal((await pending).length, 1);
    client.close();
  });

  test("one that could not be written waits for the next connection; one without retry ends", async () => {
    const { client, socket, timers, errors } = await opened();
    const write = socket.send.bind(socket);
    socket.send = () => {
      throw new Error("the socket refused the frame");
    };
    const retried = client.request("echo", { n: 1 }, { retry: true });
    await assert.rejects(client.request("echo", { n: 2 }), ConnectionLost);
    assert.equal(errors.length, 2, "both failed writes are reported");
    socket.send = write;
    const next = await reconnect(timers, socket);
    const again = only(next, "echo");
    assert.deepEqual(again["payload"], { n: 1 });
    next.receive(event("echoed", {}, { req_id: String(again["req_id"]), final: true }));
    assert.equal((await retried).length, 1);
    client.close();
  });

  test("does not count against queueLimit while it waits", async () => {
    const { client, socket, timers } = await opened({ queueLimit: 1 });
    const retried = client.request("echo", { n: 1 }, { retry: true });
    socket.serverClose(1012);
    const queued = client.request("echo", { n: 2 });
    await assert.rejects(client.request("echo", { n: 3 }), QueueFull);
    await timers.advance(250);
    const next = FakeSocket.last;
    next.open();
    await settle();
    assert.deepEqual(
      next.actions().map((frame) => frame["payload"]),
      [{ n: 1 }, { n: 2 }],
    );
    for (const frame of next.actions()) next.receive(event("echoed", {}, { req_id: String(frame["req_id"]), final: true }));
    assert.equal((await retried).length, 1);
    assert.equal((await queued).length, 1);
    client.close();
  });
});

describe("the server's duplicate_request", () => {
  test("rejects with a BeeflowProblem whose outcome says what became of the first attempt", async () => {
    const { client, socket, timers } = await opened();
    const pending = client.request("pay", { order: 42 }, { retry: true });
    const next = await reconnect(timers, socket);
    const again = only(next, "pay");
    next.receive(
      problem("duplicate_request", 409, {
        type: "about:blank",
        title: "Request already made",
        req_id: again["req_id"],
        final: true,
        outcome: "interrupted",
      }),
    );
    await assert.rejects(pending, (error: unknown) => {
      assert.ok(error instanceof BeeflowProblem);
      assert.equal(error.code, "duplicate_request");
      assert.equal(error.status, 409);
      assert.equal(error.outcome, "interrupted");
      assert.equal(error.frame["outcome"], "interrupted");
      return true;
    });
    client.close();
  });

  test("outcome is null on every other problem", async () => {
    const { client, socket } = await opened();
    const pending = client.request("pay", {}, { retry: true });
    const reqId = only(socket, "pay")["req_id"];
    socket.receive(problem("seat_taken", 409, { req_id: reqId, final: true, outcome: "completed" }));
    await assert.rejects(pending, (error: unknown) => error instanceof BeeflowProblem && error.outcome === null);
    client.close();
  });
});

describe("when the client closes for good", () => {
  for (const code of [1008, 4401, 4403, 4409]) {
    test(`close code ${code} ends one in flight with ConnectionLost, as any other`, async () => {
      const { client, socket, timers } = await opened();
      const pending = client.request("echo", {}, { retry: true });
      socket.serverClose(code, "go away");
      await assert.rejects(pending, (error: unknown) => error instanceof ConnectionLost && error.closeCode === code);
      assert.equal(client.status, "closed");
      await timers.advance(60_000);
      assert.equal(FakeSocket.instances.length, 1);
    });
  }

  test("close() ends one waiting to be sent again with ClientClosed", async () => {
    const { client, socket } = await opened();
    const pending = client.request("echo", {}, { retry: true });
    socket.serverClose(1012);
    client.close();
    await assert.rejects(pending, ClientClosed);
  });

  test("a token source without a user ends one waiting to be sent again with ClientClosed", async () => {
    let calls = 0;
    const { client, timers } = fakeClient({ getToken: async () => (++calls === 1 ? "t" : null) });
    await settle();
    FakeSocket.last.open();
    const pending = client.request("echo", {}, { retry: true });
    FakeSocket.last.serverClose(1012);
    const rejected = assert.rejects(
      pending,
      (error: unknown) => error instanceof ClientClosed && error.cause instanceof UnauthorizedError,
    );
    await timers.advance(250);
    await rejected;
    assert.equal(client.status, "closed");
  });
});
