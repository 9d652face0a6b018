/** Resume after a reconnect, against a fake socket and a hand-driven clock: positions, holding, outcomes. */

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import {
  BeeflowClient,
  BeeflowProblem,
  ConnectionLost,
  type ClientOptions,
  type EventFrame,
  type LostStream,
} from "../src/index.js";
import { FakeSocket, event, fakeClient, problem, reconnect, settle } from "./helpers.js";

const EPOCH = "18c2f1a0b3c4d";
const at = (offset: number, name = "room:42", epoch = EPOCH) => ({ name, epoch, offset });

function setup(options: Partial<ClientOptions> = {}) {
  const resyncs: Array<readonly LostStream[]> = [];
  const { client, timers, errors } = fakeClient({
    onResyncNeeded: (streams) => resyncs.push(streams),
    ...options,
  });
  const said: EventFrame<string, unknown>[] = [];
  client.on("said", (frame) => said.push(frame));
  const offsets = () => said.map((frame) => `${frame.stream?.name ?? "-"}@${frame.stream?.offset ?? "-"}`);
  return { client, timers, errors, resyncs, said, offsets };
}

/** A client that connected once and was handed `room:42` up to offset 5 and `~user:7` up to 2. */
async function connectedWithPositions(options: Partial<ClientOptions> = {}) {
  const context = setup(options);
  await settle();
  const first = FakeSocket.last;
  first.open();
  for (const offset of [4, 5]) first.receive(event("said", { offset }, { stream: at(offset) }));
  first.receive(event("said", {}, { stream: at(2, "~user:7", "u1") }));
  context.said.length = 0;
  return { ...context, first };
}

function resumeOf(socket: FakeSocket): Record<string, unknown> {
  const frame = socket.actions().find((sent) => sent["action"] === "beeflow.resume");
  assert.ok(frame !== undefined, "beeflow.resume was sent");
  return frame;
}

function resumed(reqId: unknown, stream: string, offset: number, replayed: number) {
  return event("beeflow.resumed", { stream, epoch: EPOCH, offset, replayed }, { req_id: String(reqId), final: false });
}

beforeEach(() => FakeSocket.reset());

describe("positions on a live connection", () => {
  test("are kept per stream; an event at or before its stream's position is dropped", async () => {
    const { client, said, first } = await connectedWithPositions();
    assert.deepEqual(client.positions, {
      "room:42": { epoch: EPOCH, offset: 5 },
      "~user:7": { epoch: "u1", offset: 2 },
    });
    first.receive(event("said", {}, { stream: at(5) }));
    first.receive(event("said", {}, { stream: at(6) }));
    first.receive(event("said", {}, {})); // no stream: never tracked
    assert.equal(said.length, 2);
    assert.equal(said[0]?.stream?.offset, 6);
    assert.equal(client.recovered, null, "no resume yet");
    assert.deepEqual(first.actions(), [], "the first connect resumes nothing");
    client.close();
  });
});

describe("resume on a reconnect", () => {
  test("is sent first with every position; held events go out in offset order, once", async () => {
    const { client, timers, said, offsets, errors, first } = await connectedWithPositions();
    first.serverClose(1012);
    const queued = client.request("echo", { queued: true });
    await timers.advance(250);
    const socket = FakeSocket.last;
    socket.open();
    await settle();
    const sent = socket.actions();
    assert.deepEqual(
      sent.map((frame) => frame["action"]),
      ["beeflow.resume", "echo"],
      "the resume goes before what was queued offline",
    );
    const resume = resumeOf(socket);
    assert.deepEqual(resume["payload"], {
      streams: [
        { name: "room:42", epoch: EPOCH, offset: 5 },
        { name: "~user:7", epoch: "u1", offset: 2 },
      ],
    });
    // Live events overtake the missed ones; the missed come after, one already seen among them.
    socket.receive(event("said", { live: 8 }, { stream: at(8) }));
    socket.receive(event("said", { missed: 6 }, { stream: at(6), req_id: "an-old-request" }));
    socket.receive(event("said", { missed: 7 }, { stream: at(7) }));
    socket.receive(event("said", { missed: 5 }, { stream: at(5) }));
    socket.receive(resumed(resume["req_id"], "room:42", 7, 2));
    socket.receive(resumed(resume["req_id"], "~user:7", 2, 0));
    assert.equal(said.length, 0, "held while the resume runs");
    socket.receive(event("beeflow.complete", { events: 2 }, { req_id: String(resume["req_id"]), final: true }));
    assert.deepEqual(offsets(), ["room:42@6", "room:42@7", "room:42@8"]);
    assert.equal(said[0]?.req_id, "an-old-request", "a replayed event of no pending request reaches the listeners");
    assert.equal(client.recovered, true);
    assert.deepEqual(client.positions["room:42"], { epoch: EPOCH, offset: 8 });
    socket.receive(event("said", {}, { stream: at(8) }));
    socket.receive(event("said", {}, { stream: at(9) }));
    assert.deepEqual(offsets(), ["room:42@6", "room:42@7", "room:42@8", "room:42@9"]);
    const echo = sent[1];
    socket.receive(event("echoed", {}, { req_id: String(echo?.["req_id"]), final: true }));
    assert.equal((await queued).length, 1);
    assert.deepEqual(errors, []);
    client.close();
  });

  test("a request's own copy goes to it at once and counts as handed out", async () => {
    const { client, timers, offsets, first } = await connectedWithPositions();
    const socket = await reconnect(timers, first);
    const resume = resumeOf(socket);
    const pending = client.request("say", {});
    const say = socket.actions()[1];
    socket.receive(event("said", { mine: true }, { req_id: String(say?.["req_id"]), final: true, stream: at(7) }));
    assert.equal((await pending)[0]?.stream?.offset, 7, "not held back from its request");
    socket.receive(event("said", {}, { stream: at(6) }));
    socket.receive(event("said", {}, { stream: at(7), req_id: String(say?.["req_id"]) }));
    socket.receive(event("beeflow.complete", {}, { req_id: String(resume["req_id"]), final: true }));
    assert.deepEqual(offsets(), ["room:42@6"]);
    assert.deepEqual(client.positions["room:42"], { epoch: EPOCH, offset: 7 });
    client.close();
  });

  test("beforeResume runs first; its requests go at once, the queued ones after the resume", async () => {
    const order: string[] = [];
    let client: BeeflowClient | null = null;
    const context = await connectedWithPositions({
      beforeResume: async () => {
        order.push("hook");
        const joined = await client?.request("chat.join", { room: "42" });
        order.push(`joined ${joined?.length ?? 0}`);
      },
    });
    client = context.client;
    const { timers, first } = context;
    assert.deepEqual(order, [], "not on the first connect");
    first.serverClose(1006);
    const queued = client.request("echo", {});
    await timers.advance(250);
    const socket = FakeSocket.last;
    socket.open();
    await settle();
    assert.deepEqual(order, ["hook"]);
    assert.deepEqual(socket.actions().map((frame) => frame["action"]), ["chat.join"], "nothing else before the hook ends");
    socket.receive(event("said", {}, { stream: at(9) }));
    const join = socket.actions()[0];
    socket.receive(event("joined", {}, { req_id: String(join?.["req_id"]), final: true }));
    await settle();
    assert.deepEqual(order, ["hook", "joined 1"]);
    assert.deepEqual(socket.actions().map((frame) => frame["action"]), ["chat.join", "beeflow.resume", "echo"]);
    const resume = resumeOf(socket);
    socket.receive(event("said", {}, { stream: at(6) }));
    socket.receive(event("beeflow.complete", {}, { req_id: String(resume["req_id"]), final: true }));
    assert.deepEqual(context.offsets(), ["room:42@6", "room:42@9"], "held from the open, through the hook");
    socket.receive(event("echoed", {}, { req_id: String(socket.actions()[2]?.["req_id"]), final: true }));
    assert.equal((await queued).length, 1);
    client.close();
  });

  test("beforeResume runs on a reconnect without positions too, and a failing one is reported", async () => {
    let calls = 0;
    const { client, timers, errors } = setup({
      beforeResume: async () => {
        calls += 1;
        throw new Error("join refused");
      },
    });
    await settle();
    FakeSocket.last.open();
    assert.equal(calls, 0);
    FakeSocket.last.serverClose(1012);
    const queued = client.request("echo", {});
    await timers.advance(250);
    const socket = FakeSocket.last;
    socket.open();
    await settle();
    assert.equal(calls, 1);
    assert.equal((errors[0] as Error).message, "join refused");
    assert.deepEqual(socket.actions().map((frame) => frame["action"]), ["echo"], "no positions: no resume");
    assert.equal(client.recovered, null);
    socket.receive(event("echoed", {}, { req_id: String(socket.actions()[0]?.["req_id"]), final: true }));
    assert.equal((await queued).length, 1);
    client.close();
  });

  test("unrecoverable streams go to onResyncNeeded and move on to the given position", async () => {
    const { client, timers, offsets, resyncs, errors, first } = await connectedWithPositions();
    const socket = await reconnect(timers, first);
    const resume = resumeOf(socket);
    socket.receive(event("said", {}, { stream: at(3, "~user:7", "u2") }));
    socket.receive(event("said", {}, { stream: at(4, "~user:7", "u2") }));
    socket.receive(event("said", {}, { stream: at(6) }));
    socket.receive(resumed(resume["req_id"], "room:42", 6, 1));
    const lost = [{ name: "~user:7", epoch: "u2", offset: 3, reason: "epoch_changed" }];
    socket.receive(problem("unrecoverable_position", 409, { req_id: resume["req_id"], final: true, streams: lost }));
    assert.deepEqual(resyncs, [lost]);
    assert.equal(client.recovered, false);
    assert.deepEqual(offsets(), ["~user:7@4", "room:42@6"], "what the reload covers is dropped, what follows it is not");
    assert.deepEqual(client.positions, { "room:42": { epoch: EPOCH, offset: 6 }, "~user:7": { epoch: "u2", offset: 4 } });
    assert.deepEqual(errors, []);
    client.close();
  });

  test("a stream listed without an epoch is not named by the next resume", async () => {
    const { client, timers, first } = await connectedWithPositions();
    let socket = await reconnect(timers, first);
    let resume = resumeOf(socket);
    const lost = [{ name: "room:42", epoch: "", offset: 0, reason: "not_a_member" }];
    socket.receive(problem("unrecoverable_position", 409, { req_id: resume["req_id"], final: true, streams: lost }));
    assert.deepEqual(client.positions["room:42"], { epoch: "", offset: 0 });
    socket = await reconnect(timers, socket);
    resume = resumeOf(socket);
    assert.deepEqual(resume["payload"], { streams: [{ name: "~user:7", epoch: "u1", offset: 2 }] });
    client.close();
  });

  test("a resume that fails otherwise hands out what was held, reports, and the next reconnect resumes again", async () => {
    const { client, timers, offsets, errors, resyncs, first } = await connectedWithPositions();
    let socket = await reconnect(timers, first);
    let resume = resumeOf(socket);
    socket.receive(event("said", {}, { stream: at(7) }));
    socket.receive(event("said", {}, { stream: at(6) }));
    socket.receive(problem("delivery_unavailable", 503, { req_id: resume["req_id"], final: true }));
    assert.deepEqual(offsets(), ["room:42@6", "room:42@7"]);
    assert.equal(client.recovered, false);
    assert.ok(errors[0] instanceof BeeflowProblem && errors[0].code === "delivery_unavailable");
    assert.deepEqual(resyncs, []);

    socket = await reconnect(timers, socket);
    resume = resumeOf(socket);
    socket.receive(event("said", {}, { stream: at(9) }));
    socket.receive(event("said", {}, { stream: at(8) }));
    socket.serverClose(1006);
    assert.deepEqual(offsets(), ["room:42@6", "room:42@7", "room:42@8", "room:42@9"], "a loss hands out what was held");
    assert.ok(errors[1] instanceof ConnectionLost);
    await timers.advance(250);
    socket = FakeSocket.last;
    socket.open();
    assert.deepEqual(resumeOf(socket)["payload"], {
      streams: [
        { name: "room:42", epoch: EPOCH, offset: 9 },
        { name: "~user:7", epoch: "u1", offset: 2 },
      ],
    });
    socket.receive(event("beeflow.complete", {}, { req_id: String(resumeOf(socket)["req_id"]), final: true }));
    assert.equal(client.recovered, true);
    client.close();
  });

  test("more streams than one resume takes are resumed by several; the outcome waits for all", async () => {
    const { client, timers, resyncs } = setup();
    await settle();
    const first = FakeSocket.last;
    first.open();
    for (let n = 0; n < 150; n += 1) first.receive(event("said", {}, { stream: at(1, `room:${n}`) }));
    const socket = await reconnect(timers, first);
    const resumes = socket.actions().filter((frame) => frame["action"] === "beeflow.resume");
    const sizes = resumes.map((frame) => (frame["payload"] as { streams: unknown[] }).streams.length);
    assert.deepEqual(sizes, [100, 50]);
    const lost = [{ name: "room:120", epoch: EPOCH, offset: 4, reason: "expired" }];
    socket.receive(problem("unrecoverable_position", 409, { req_id: resumes[1]?.["req_id"], final: true, streams: lost }));
    assert.equal(client.recovered, null, "one answer is still to come");
    socket.receive(event("beeflow.complete", {}, { req_id: String(resumes[0]?.["req_id"]), final: true }));
    assert.equal(client.recovered, false);
    assert.deepEqual(resyncs, [lost]);
    client.close();
  });

  test("close code 4410 is followed by a reconnect with backoff, and a resume", async () => {
    const { client, timers, first } = await connectedWithPositions();
    first.serverClose(4410, "missed stream events: resume");
    assert.equal(client.status, "reconnecting");
    assert.equal(client.lastCloseCode, 4410);
    await timers.advance(249);
    assert.equal(FakeSocket.instances.length, 1, "after the backoff, not at once");
    await timers.advance(1);
    FakeSocket.last.open();
    assert.equal(client.status, "open");
    assert.equal(resumeOf(FakeSocket.last)["action"], "beeflow.resume");
    client.close();
  });

  test("closing while a resume runs drops what was held quietly", async () => {
    const { client, timers, said, errors, first } = await connectedWithPositions();
    const socket = await reconnect(timers, first);
    socket.receive(event("said", {}, { stream: at(6) }));
    client.close();
    assert.deepEqual(said, []);
    assert.deepEqual(errors, []);
    assert.equal(client.recovered, null);
  });
});
