/**
 * The package's public surface: the client, its errors, the wire frame types and the contract's
 * type helpers. Everything else is internal.
 */

export {
  BeeflowClient,
  createClient,
  type ClientOptions,
  type Gap,
  type RequestOptions,
  type StreamOptions,
} from "./client.js";
export {
  TERMINAL_CLOSE_CODES,
  type CloseReason,
  type Status,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./connection.js";
export type {
  ActionName,
  AnyContract,
  ContractShape,
  EventNameOf,
  EventOf,
  EventPayload,
  ListenName,
  PayloadOf,
  ProblemCodeOf,
  PushName,
  TypedEvent,
} from "./contract.js";
export {
  BeeflowError,
  BeeflowProblem,
  ClientClosed,
  ConnectionLost,
  ProtocolMismatch,
  QueueFull,
  RequestAborted,
  RequestTimeout,
  UnauthorizedError,
  type ProblemErrorItem,
  type RequestOutcome,
} from "./errors.js";
export {
  CANCEL,
  COMPLETE,
  PING,
  SUBPROTOCOL,
  type ActionFrame,
  type EventFrame,
  type LostReason,
  type LostStream,
  type Position,
  type ProblemFrame,
  type StreamPosition,
} from "./frames.js";
export type { BackoffOptions } from "./backoff.js";
export type { HeartbeatOptions } from "./heartbeat.js";
export type { Unsubscribe } from "./listeners.js";
export type { GetToken } from "./token.js";
export type { Timers } from "./timers.js";
