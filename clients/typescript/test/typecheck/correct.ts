// Compiles with zero errors under the strict options (test/typecheck.test.ts): the typed client used
// as documented, against the generated contract of the contract test application.

import { BeeflowClient, BeeflowProblem, type EventOf, type ProblemCodeOf, type RequestOutcome } from "../../src/index.js";
import type { Contract, Order } from "../fixtures/contract-app.js";

declare const client: BeeflowClient<Contract>;

const order: Order = { item: "tea", quantity: 2, payment: { kind: "card", number: "1234123412341234" } };

export function describeEvent(event: EventOf<Contract, "order.place">): string {
  switch (event.event) {
    case "order.progress":
      return `${event.payload.percent} %`;
    case "order.placed":
      return `order ${event.payload.order_id}: ${event.payload.total.toFixed(2)}`;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

export async function place(): Promise<string[]> {
  try {
    const events = await client.request("order.place", order, { timeout: 5000 });
    return events.map(describeEvent);
  } catch (error) {
    if (error instanceof BeeflowProblem) {
      const code = error.code as ProblemCodeOf<Contract, "order.place">;
      if (code === "out_of_stock") return ["sold out"];
    }
    throw error;
  }
}

export async function follow(signal: AbortSignal): Promise<number> {
  let percent = 0;
  const transfer: Order = { item: "tea", quantity: 1, payment: { kind: "transfer", iban: "PL1", reference: ["r", 1] } };
  for await (const event of client.stream("order.place", transfer, { signal })) {
    if (event.event === "order.progress") percent = event.payload.percent;
  }
  return percent;
}

/** A request sent again after a lost connection; the server's duplicate_request says what became of the first. */
export async function pay(): Promise<string> {
  try {
    await client.request("order.place", order, { retry: true, timeout: 30_000 });
    return "placed";
  } catch (error) {
    if (!(error instanceof BeeflowProblem) || error.code !== "duplicate_request") throw error;
    const outcome: RequestOutcome | null = error.outcome;
    switch (outcome) {
      case "completed":
      case "failed":
      case "running":
      case "interrupted":
        return outcome;
      default:
        return outcome ?? "unknown";
    }
  }
}

export async function followAgain(): Promise<number> {
  let count = 0;
  for await (const event of client.stream("order.place", order, { retry: true })) count += event.event.length;
  return count;
}

export async function untypedAction(): Promise<unknown> {
  const events = await client.request("shop/echo", { anything: [1, 2, 3] });
  return events[0]?.payload["anything"];
}

export function listen(): () => void {
  const off = client.on("order.placed", (event) => {
    const id: number = event.payload.order_id;
    void id;
  });
  const offNote = client.on("shop.note", (event) => void event.payload["text"]);
  return () => {
    off();
    offNote();
  };
}

// Without a contract, every name and object payload is accepted.
const loose = new BeeflowClient("ws://127.0.0.1/ws/", { heartbeat: false });
export const anything: Promise<unknown> = loose.request("whatever", { a: 1 }).then((events) => events[0]?.payload["a"]);
export const offAny = loose.on("any.event", (event) => void event.payload);
