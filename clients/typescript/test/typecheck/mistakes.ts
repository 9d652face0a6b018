// Every line marked `// error` must fail to compile, and no other line may
// (test/typecheck.test.ts runs tsc on this file against the generated contract).

import type { BeeflowClient, EventOf } from "../../src/index.js";
import type { Contract, Order } from "../fixtures/contract-app.js";

declare const client: BeeflowClient<Contract>;
declare const order: Order;
const card = { kind: "card", number: "1234123412341234" } as const;

export async function mistakes(): Promise<void> {
  await client.request("order.cancel", {}); // error: unknown action
  await client.request("order.place", { item: "tea", quantity: "2", payment: card }); // error: wrong field type
  await client.request("order.place", { item: "tea", payment: card }); // error: missing required field
  await client.request("order.place", { item: "tea", quantity: 1, payment: card, colour: "red" }); // error: misspelt field
  await client.request("order.place", { item: "tea", quantity: 1, payment: { kind: "cash" } }); // error: not a member of the union
  await client.request("order.place", { ...order, payment: { kind: "transfer", iban: "PL1", reference: [1, "r"] } }); // error: tuple order
  for await (const event of client.stream("order.place", order)) {
    if (event.event === "shop.note") continue; // error: an event the action does not yield
  }
  client.on("order.placed", (event) => {
    const id: string = event.payload.order_id; // error: wrong push payload type
    void id;
  });
  client.on("order.shipped", () => {}); // error: no such event
  await client.request("order.place", order, { retry: "yes" }); // error: retry is a boolean
  for await (const event of client.stream("order.place", order, { retry: 1 })) void event; // error: retry is a boolean
}

export function notExhaustive(event: EventOf<Contract, "order.place">): string {
  switch (event.event) {
    case "order.progress":
      return "progress";
    case "order.shipped": // error: an event name not in the union
      return "shipped";
    default: {
      const unreachable: never = event; // error: order.placed is not handled
      return unreachable;
    }
  }
}
