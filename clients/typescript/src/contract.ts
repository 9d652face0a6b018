/**
 * The compile-time view of an application's contract. A generated `Contract` type (see the
 * `beeflow-websocket-types` generator) fills `ContractShape`; these helpers turn it into the types
 * of `request`, `stream` and `on`. Without one, `AnyContract` accepts every name and payload.
 */

import type { EventFrame } from "./frames.js";

/** What the generator emits: actions by name, event payloads by name, the events pushed to users and groups. */
export type ContractShape = {
  readonly actions: {
    readonly [action: string]: {
      readonly payload: unknown;
      /** The names of the events the action may yield (never `beeflow.complete`). */
      readonly events: string;
      /** The problem codes the action may end with. */
      readonly problems: string;
    };
  };
  /** Every event's payload, by event name. */
  readonly events: { readonly [event: string]: unknown };
  /** The names of the events the server pushes (to a user or a group). */
  readonly pushes: string;
};

/** The contract of an application whose document the client does not know: anything goes. */
export type AnyContract = {
  readonly actions: {
    readonly [action: string]: {
      readonly payload: Record<string, unknown>;
      readonly events: string;
      readonly problems: string;
    };
  };
  readonly events: { readonly [event: string]: Record<string, unknown> };
  readonly pushes: string;
};

/** The names of the contract's actions. */
export type ActionName<C extends ContractShape> = keyof C["actions"] & string;

/** The payload an action takes. */
export type PayloadOf<C extends ContractShape, A extends ActionName<C>> = C["actions"][A]["payload"];

/** The names of the events an action may yield. */
export type EventNameOf<C extends ContractShape, A extends ActionName<C>> = C["actions"][A]["events"] &
  string;

/** The payload of the event named `N`. */
export type EventPayload<C extends ContractShape, N extends string> = N extends keyof C["events"]
  ? C["events"][N]
  : Record<string, unknown>;

/** One event frame named `N`, with its typed payload. */
export type TypedEvent<C extends ContractShape, N extends string> = EventFrame<N, EventPayload<C, N>>;

/** The events of an action: a union discriminated on `event`, so `switch (e.event)` can be exhaustive. */
export type EventOf<C extends ContractShape, A extends ActionName<C>> = {
  [N in EventNameOf<C, A>]: TypedEvent<C, N>;
}[EventNameOf<C, A>];

/** The problem codes an action may end with. */
export type ProblemCodeOf<C extends ContractShape, A extends ActionName<C>> = C["actions"][A]["problems"] &
  string;

/** The names of the pushed events, which `on()` accepts. */
export type PushName<C extends ContractShape> = C["pushes"] & string;

/** The event names `on()` accepts: pushed events (and, for `AnyContract`, any name). */
export type ListenName<C extends ContractShape> = PushName<C> | (keyof C["events"] & string);
