/**
 * Reads the application's AsyncAPI 3 contract document (docs/en/contract.md) and writes the
 * TypeScript module that types a `BeeflowClient<Contract>`: every component schema as a named type,
 * then `Contract` with each action's payload, event names and problem codes, every event's payload
 * and the pushed events. Pure: a document in, the module's text out.
 */

import { componentRefs, docComment, propertyKey, resolvePointer, toType, type SchemaContext } from "./schema.js";

const RESERVED_PREFIX = "beeflow.";
const COMPLETE = "beeflow.complete";

interface Message {
  readonly kind: "action" | "event" | "problem";
  /** The action's, event's or problem code's name on the wire. */
  readonly name: string;
  readonly message: Record<string, unknown>;
  /** The schema of the frame's `payload` member (for problems: the whole frame). */
  readonly payload: unknown;
}

interface ActionModel {
  readonly name: string;
  readonly summary: string;
  readonly payload: unknown;
  readonly events: string[];
  readonly problems: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Follows `$ref`s until an object without one. */
function deref(document: unknown, node: unknown): Record<string, unknown> {
  let current = node;
  for (let hops = 0; hops < 32; hops += 1) {
    if (!isRecord(current)) throw new Error("the document holds a message that is not an object");
    const ref = current["$ref"];
    if (typeof ref !== "string") return current;
    current = resolvePointer(document, ref);
  }
  throw new Error("a reference cycle among messages");
}

function readMessage(document: unknown, node: unknown): Message | null {
  const message = deref(document, node);
  const frame = isRecord(message["payload"]) ? message["payload"] : {};
  const properties = isRecord(frame["properties"]) ? frame["properties"] : {};
  const constOf = (key: string): string | null => {
    const property = properties[key];
    return isRecord(property) && typeof property["const"] === "string" ? property["const"] : null;
  };
  const action = constOf("action");
  if (action !== null) return { kind: "action", name: action, message, payload: properties["payload"] };
  const event = constOf("event");
  if (event !== null) return { kind: "event", name: event, message, payload: properties["payload"] };
  const code = constOf("code");
  if (code !== null) return { kind: "problem", name: code, message, payload: frame };
  return null;
}

function messagesOf(document: unknown, list: unknown): Message[] {
  if (!Array.isArray(list)) return [];
  return list.map((node) => readMessage(document, node)).filter((message) => message !== null);
}

function stringLiterals(names: readonly string[]): string {
  const unique = [...new Set(names)];
  return unique.length === 0 ? "never" : unique.map((name) => JSON.stringify(name)).join(" | ");
}

/** A TypeScript identifier from a component key (pydantic names such as `Page_Item_` or `Model-Input`). */
function identifier(key: string, taken: Set<string>): string {
  let name = key.replace(/[^A-Za-z0-9_$]/g, "_");
  if (!/^[A-Za-z_$]/.test(name)) name = `_${name}`;
  while (taken.has(name)) name = `${name}_`;
  taken.add(name);
  return name;
}

export interface GenerateOptions {
  /** Shown in the header, so a reader knows where the file came from. */
  readonly source?: string;
}

/** The TypeScript module for `document`. */
export function generate(document: unknown, options: GenerateOptions = {}): string {
  if (!isRecord(document) || typeof document["asyncapi"] !== "string" || !document["asyncapi"].startsWith("3.")) {
    throw new Error("not an AsyncAPI 3 document");
  }
  const operations = isRecord(document["operations"]) ? document["operations"] : {};
  const components = isRecord(document["components"]) ? document["components"] : {};
  const schemas = isRecord(components["schemas"]) ? components["schemas"] : {};
  const componentMessages = isRecord(components["messages"]) ? components["messages"] : {};

  // Actions, from the operations the server receives.
  const actions: ActionModel[] = [];
  const pushes: string[] = [];
  for (const operation of Object.values(operations)) {
    if (!isRecord(operation)) continue;
    if (operation["action"] === "receive") {
      const [message] = messagesOf(document, operation["messages"]).filter((one) => one.kind === "action");
      if (message === undefined || message.name.startsWith(RESERVED_PREFIX)) continue;
      const reply = isRecord(operation["reply"]) ? messagesOf(document, operation["reply"]["messages"]) : [];
      const stream = isRecord(operation["x-beeflow-stream"]) ? operation["x-beeflow-stream"] : {};
      const listed = (key: string): string[] | null =>
        Array.isArray(stream[key]) ? stream[key].filter((item): item is string => typeof item === "string") : null;
      const events =
        listed("events") ?? reply.filter((one) => one.kind === "event").map((one) => one.name);
      const problems =
        listed("problems") ?? reply.filter((one) => one.kind === "problem").map((one) => one.name);
      const summary = typeof operation["summary"] === "string" ? operation["summary"] : "";
      actions.push({
        name: message.name,
        summary,
        payload: message.payload,
        events: events.filter((name) => name !== COMPLETE),
        problems,
      });
    } else if (operation["action"] === "send") {
      for (const message of messagesOf(document, operation["messages"])) {
        if (message.kind === "event" && message.name !== COMPLETE) pushes.push(message.name);
      }
    }
  }

  // Events and problems, from every message of the components.
  const events = new Map<string, Message>();
  const problems = new Map<string, Message>();
  for (const node of Object.values(componentMessages)) {
    const message = readMessage(document, node);
    if (message === null) continue;
    if (message.kind === "event" && message.name !== COMPLETE) events.set(message.name, message);
    if (message.kind === "problem") problems.set(message.name, message);
  }

  // Component schemas reached only from events are written in output mode (defaults are present).
  const input = new Set<string>();
  for (const action of actions) componentRefs(action.payload, document, input);
  const output = new Set<string>();
  for (const message of events.values()) componentRefs(message.payload, document, output);

  const taken = new Set(["Contract", "ProblemCode", "ActionNames", "EventNames", "Record", "Array"]);
  const names = new Map<string, string>();
  for (const key of Object.keys(schemas).sort()) names.set(key, identifier(key, taken));
  const nameOf = (key: string): string => {
    const name = names.get(key);
    if (name === undefined) throw new Error(`unresolved reference: #/components/schemas/${key}`);
    return name;
  };
  const context = (outputMode: boolean): SchemaContext => ({ document, nameOf, output: outputMode });

  const out: string[] = [];
  const info = isRecord(document["info"]) ? document["info"] : {};
  const title = typeof info["title"] === "string" ? info["title"] : "";
  const version = typeof info["version"] === "string" ? info["version"] : "";
  out.push(
    "// The types of an application's beeflow-websocket contract, for BeeflowClient<Contract>.",
    `// Generated by beeflow-websocket-types from ${options.source ?? "an AsyncAPI document"}${
      title ? ` (${title}${version ? ` ${version}` : ""})` : ""
    }.`,
    "// Do not edit: regenerate it when the contract changes.",
    "/* eslint-disable */",
    "",
  );

  for (const [key, name] of names) {
    const schema = schemas[key];
    const outputMode = output.has(key) && !input.has(key);
    out.push(`${docComment(schema, "")}export type ${name} = ${toType(schema, context(outputMode))};`, "");
  }

  out.push("/** The contract: what `BeeflowClient<Contract>` checks at compile time. */", "export type Contract = {");
  out.push("  actions: {");
  for (const action of actions.sort((a, b) => a.name.localeCompare(b.name))) {
    const comment = action.summary ? `    /** ${action.summary.replace(/\*\//g, "*\\/")} */\n` : "";
    out.push(
      `${comment}    ${propertyKey(action.name)}: {`,
      `      payload: ${toType(action.payload ?? { type: "object", additionalProperties: true }, context(false), "      ")};`,
      `      events: ${stringLiterals(action.events)};`,
      `      problems: ${stringLiterals(action.problems)};`,
      "    };",
    );
  }
  out.push("  };", "  events: {");
  for (const [name, message] of [...events].sort(([a], [b]) => a.localeCompare(b))) {
    const summary = typeof message.message["summary"] === "string" ? message.message["summary"] : "";
    const comment = summary ? `    /** ${summary.replace(/\*\//g, "*\\/")} */\n` : "";
    out.push(`${comment}    ${propertyKey(name)}: ${toType(message.payload, context(true), "    ")};`);
  }
  out.push("  };", `  pushes: ${stringLiterals(pushes.sort())};`, "};", "");

  out.push(
    "/** Every problem code the contract names. */",
    `export type ProblemCode = ${stringLiterals([...problems.keys()].sort())};`,
    "",
    "/** The action names, at run time too. */",
    `export const actionNames = ${JSON.stringify(actions.map((action) => action.name))} as const;`,
    "",
  );
  return out.join("\n");
}
