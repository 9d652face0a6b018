// The contract the typed example of docs/en/typescript-client.md imports as "./contract.js": the
// shape the generator writes, for an application with one action, `order.place`.

export type Payment = { kind: "card"; number: string };

export type PlaceOrder = { item: string; quantity: number; payment: Payment };

export type OrderProgress = { percent: number };

export type OrderPlaced = { order_id: string; total: number };

export type Contract = {
  actions: {
    "order.place": {
      payload: PlaceOrder;
      events: "order.progress" | "order.placed";
      problems: "invalid_action_payload" | "internal_error";
    };
  };
  events: {
    "order.progress": OrderProgress;
    "order.placed": OrderPlaced;
  };
  pushes: "order.placed";
};
