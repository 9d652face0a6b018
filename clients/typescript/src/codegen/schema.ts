/**
 * JSON Schema (draft-07 as the contract document normalises it, plus the few OpenAPI-isms pydantic
 * leaves) to TypeScript type text. Own code rather than a general JSON-Schema-to-TS tool: the
 * documents this library emits use a small, known set of keywords, and an exact mapping of those
 * beats a dependency tree that a client package's users would have to install and audit.
 *
 * Mapping: objects with `properties` and `required` (optional members as `?:`), `additionalProperties`
 * (an object without properties becomes a record; one with properties stays closed unless it says
 * `additionalProperties: true`, so a misspelt field is a compile error), `const` and `enum` as
 * literals, arrays and tuples (`items` lists, `prefixItems`), `oneOf`/`anyOf` as unions, `allOf` as an
 * intersection, `type` lists, `nullable`, `$ref` to `#/components/schemas/*` by name (other
 * references inlined), formats as `string`. What is not understood becomes `unknown`, never `any`.
 */

export type Schema = boolean | { readonly [keyword: string]: unknown };

export interface SchemaContext {
  /** The whole document, for references that are not components. */
  readonly document: unknown;
  /** The type name of a `#/components/schemas/<key>` reference. */
  readonly nameOf: (key: string) => string;
  /**
   * Output mode: the shape as the server writes it, where a property with a `default` is always
   * present. Input mode (what the client sends) follows `required` alone.
   */
  readonly output: boolean;
}

const COMPONENT = "#/components/schemas/";
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Follows a local JSON pointer (`#/a/b`) in `document`. */
export function resolvePointer(document: unknown, ref: string): unknown {
  if (!ref.startsWith("#")) throw new Error(`only local references are supported: ${ref}`);
  let node: unknown = document;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isRecord(node)) node = node[key];
    else node = undefined;
    if (node === undefined) throw new Error(`unresolved reference: ${ref}`);
  }
  return node;
}

/** A property key as TypeScript writes it. */
export function propertyKey(key: string): string {
  return IDENTIFIER.test(key) ? key : JSON.stringify(key);
}

/** A JSDoc comment from a schema's title/description, or "". */
export function docComment(schema: unknown, indent: string): string {
  if (!isRecord(schema)) return "";
  const text = typeof schema["description"] === "string" ? schema["description"] : "";
  if (text.trim() === "") return "";
  const lines = text.trim().replace(/\*\//g, "*\\/").split("\n");
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((line) => `${indent} *${line ? ` ${line}` : ""}`).join("\n")}\n${indent} */\n`;
}

function literal(value: unknown): string {
  return JSON.stringify(value) ?? "unknown";
}

function union(parts: string[]): string {
  const unique = [...new Set(parts)];
  if (unique.length === 0) return "never";
  if (unique.includes("unknown")) return "unknown";
  return unique.length === 1 ? (unique[0] as string) : unique.map(wrap).join(" | ");
}

/** Whether `type` has a `|` or `&` outside brackets and string literals. */
function compound(type: string): boolean {
  let depth = 0;
  for (let index = 0; index < type.length; index += 1) {
    const char = type[index];
    if (char === '"') {
      for (index += 1; index < type.length && type[index] !== '"'; index += 1) if (type[index] === "\\") index += 1;
    } else if (char === "{" || char === "[" || char === "(" || char === "<") depth += 1;
    else if (char === "}" || char === "]" || char === ")" || char === ">") depth -= 1;
    else if ((char === "|" || char === "&") && depth === 0) return true;
  }
  return false;
}

/** Parenthesises a union or intersection used inside another. */
function wrap(type: string): string {
  return compound(type) ? `(${type})` : type;
}

function arrayOf(type: string): string {
  return /^[A-Za-z0-9_$."]+$/.test(type) ? `${type}[]` : `Array<${type}>`;
}

/** The TypeScript type of `schema`; `indent` is the indentation of the line it starts on. */
export function toType(schema: unknown, context: SchemaContext, indent = ""): string {
  if (schema === true || schema === undefined) return "unknown";
  if (schema === false) return "never";
  if (!isRecord(schema)) return "unknown";
  const type = baseType(schema, context, indent);
  return schema["nullable"] === true ? union([type, "null"]) : type;
}

function baseType(schema: Record<string, unknown>, context: SchemaContext, indent: string): string {
  const ref = schema["$ref"];
  if (typeof ref === "string") {
    if (ref.startsWith(COMPONENT)) return context.nameOf(decodeURIComponent(ref.slice(COMPONENT.length)));
    return toType(resolvePointer(context.document, ref), context, indent);
  }
  if ("const" in schema) return literal(schema["const"]);
  if (Array.isArray(schema["enum"])) return union(schema["enum"].map(literal));
  for (const keyword of ["oneOf", "anyOf"]) {
    const members = schema[keyword];
    if (Array.isArray(members)) {
      const siblings = withoutKeyword(schema, keyword);
      const own = Object.keys(siblings).some((key) => STRUCTURAL.has(key))
        ? [toType(siblings, context, indent)]
        : [];
      const alternatives = union(members.map((member) => toType(member, context, indent)));
      return own.length > 0 ? `${wrap(own[0] as string)} & ${wrap(alternatives)}` : alternatives;
    }
  }
  const all = schema["allOf"];
  if (Array.isArray(all)) {
    const parts = all.map((member) => toType(member, context, indent));
    const siblings = withoutKeyword(schema, "allOf");
    if (Object.keys(siblings).some((key) => STRUCTURAL.has(key))) parts.push(toType(siblings, context, indent));
    const unique = [...new Set(parts)].filter((part) => part !== "unknown");
    if (unique.length === 0) return "unknown";
    return unique.length === 1 ? (unique[0] as string) : unique.map(wrap).join(" & ");
  }
  const declared = schema["type"];
  if (Array.isArray(declared)) {
    return union(declared.map((one) => toType({ ...schema, type: one }, context, indent)));
  }
  switch (declared) {
    case "null":
      return "null";
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "array":
      return arrayType(schema, context, indent);
    case "object":
      return objectType(schema, context, indent);
    default:
      if (isRecord(schema["properties"]) || "additionalProperties" in schema) {
        return objectType(schema, context, indent);
      }
      if ("items" in schema || "prefixItems" in schema) return arrayType(schema, context, indent);
      return "unknown";
  }
}

/** Keywords that say something of the value's own shape (beside a oneOf/anyOf/allOf). */
const STRUCTURAL = new Set(["type", "properties", "additionalProperties", "items", "prefixItems", "const", "enum"]);

function withoutKeyword(schema: Record<string, unknown>, keyword: string): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...schema };
  delete copy[keyword];
  delete copy["discriminator"];
  return copy;
}

function arrayType(schema: Record<string, unknown>, context: SchemaContext, indent: string): string {
  const tuple = Array.isArray(schema["prefixItems"])
    ? schema["prefixItems"]
    : Array.isArray(schema["items"])
      ? schema["items"]
      : null;
  if (tuple !== null) {
    const rest = Array.isArray(schema["prefixItems"]) ? schema["items"] : schema["additionalItems"];
    const minItems = typeof schema["minItems"] === "number" ? schema["minItems"] : 0;
    const members = tuple.map((item, index) => {
      const type = toType(item, context, indent);
      return index < minItems ? type : `${wrap(type)}?`;
    });
    if (rest !== false && rest !== undefined) members.push(`...${arrayOf(wrap(toType(rest, context, indent)))}`);
    else if (rest === undefined) members.push("...unknown[]");
    return `[${members.join(", ")}]`;
  }
  return arrayOf(wrap(toType(schema["items"], context, indent)));
}

function objectType(schema: Record<string, unknown>, context: SchemaContext, indent: string): string {
  const properties = isRecord(schema["properties"]) ? schema["properties"] : {};
  const required = new Set(Array.isArray(schema["required"]) ? schema["required"] : []);
  const additional = schema["additionalProperties"];
  const keys = Object.keys(properties);
  if (keys.length === 0) {
    if (additional === false) return "Record<string, never>";
    const value = additional === undefined || additional === true ? "unknown" : toType(additional, context, indent);
    return `Record<string, ${value}>`;
  }
  const inner = `${indent}  `;
  const lines: string[] = [];
  for (const key of keys) {
    const property = properties[key];
    const present = required.has(key) || (context.output && isRecord(property) && "default" in property);
    lines.push(
      `${docComment(property, inner)}${inner}${propertyKey(key)}${present ? "" : "?"}: ${toType(property, context, inner)};`,
    );
  }
  if (additional === true) lines.push(`${inner}[key: string]: unknown;`);
  // A typed additionalProperties beside properties: TypeScript's index signature would have to
  // admit every property's type too, so it stays unknown.
  else if (isRecord(additional)) lines.push(`${inner}[key: string]: unknown;`);
  return `{\n${lines.join("\n")}\n${indent}}`;
}

/** The `#/components/schemas/*` keys that `schema` refers to, directly or through other components. */
export function componentRefs(schema: unknown, document: unknown, into: Set<string> = new Set()): Set<string> {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!isRecord(node)) return;
    const ref = node["$ref"];
    if (typeof ref === "string" && ref.startsWith(COMPONENT)) {
      const key = decodeURIComponent(ref.slice(COMPONENT.length));
      if (!into.has(key)) {
        into.add(key);
        visit(resolvePointer(document, ref));
      }
    }
    for (const value of Object.values(node)) visit(value);
  };
  visit(schema);
  return into;
}
