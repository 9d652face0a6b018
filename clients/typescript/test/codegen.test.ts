/**
 * The type generator: it reproduces the committed modules from the committed contract documents,
 * and maps each JSON Schema construct the documents use.
 *
 * The fixtures are regenerated from the repository root with:
 *   PYTHONPATH=testkit uv run python -c "import json, sys; from beeflow_websocket.core.asyncapi import asyncapi_document; from contract_app import define; define(); json.dump(asyncapi_document(), sys.stdout, indent=2)" > clients/typescript/test/fixtures/contract-app.asyncapi.json
 *   (cd tests-integration/sites && PYTHONPATH=.:../../examples uv run python -m beeflow_websocket.core.asyncapi_command fastsite.main:app -o ../../clients/typescript/test/fixtures/fastsite.asyncapi.json)
 *   cd clients/typescript && npm run build && for name in contract-app fastsite; do node dist/codegen/cli.js test/fixtures/$name.asyncapi.json -o test/fixtures/$name.ts; done
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { generate } from "../src/codegen/generate.js";
import { toType, type SchemaContext } from "../src/codegen/schema.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixture = (name: string) => join(ROOT, "test", "fixtures", name);

describe("the generated modules", () => {
  for (const name of ["contract-app", "fastsite"]) {
    test(`${name}: the committed module is what the generator writes`, () => {
      const document: unknown = JSON.parse(readFileSync(fixture(`${name}.asyncapi.json`), "utf8"));
      const expected = readFileSync(fixture(`${name}.ts`), "utf8");
      assert.equal(generate(document, { source: `${name}.asyncapi.json` }), expected);
    });
  }

  test("the command writes the same file", () => {
    const out = join(mkdtempSync(join(tmpdir(), "beeflow-types-")), "contract.ts");
    const cli = join(ROOT, "build-test", "src", "codegen", "cli.js");
    execFileSync(process.execPath, [cli, fixture("contract-app.asyncapi.json"), "-o", out]);
    assert.equal(readFileSync(out, "utf8"), readFileSync(fixture("contract-app.ts"), "utf8"));
  });

  test("the command refuses what is not an AsyncAPI 3 document", () => {
    const cli = join(ROOT, "build-test", "src", "codegen", "cli.js");
    assert.throws(
      () => execFileSync(process.execPath, [cli, join(ROOT, "package.json")], { stdio: "pipe" }),
      /not an AsyncAPI 3 document/,
    );
  });

  test("the contract's parts", () => {
    const module = readFileSync(fixture("contract-app.ts"), "utf8");
    assert.match(module, /"order\.place": \{\n {6}payload: Order;\n {6}events: "order\.progress" \| "order\.placed";/);
    assert.match(module, /"shop\/echo": \{\n {6}payload: Record<string, unknown>;/);
    assert.match(module, /export type Transfer = \{[^}]*reference: \[string, number\];/);
    assert.match(module, /payment: Card \| Transfer;/);
    assert.match(module, /problems: "out_of_stock" \| "invalid_action_payload"/);
    assert.doesNotMatch(module, /beeflow\.(complete|cancel|ping)"?:/, "reserved names are the client's business");
    assert.match(module, /pushes: "health" \| "order\.placed" \| "order\.progress" \| "shop\.note";/);
  });
});

describe("JSON Schema to TypeScript", () => {
  const document = { components: { schemas: { Inner: { type: "object" } } }, elsewhere: { type: "integer" } };
  const input: SchemaContext = { document, nameOf: (key) => `T${key}`, output: false };
  const output: SchemaContext = { ...input, output: true };
  const cases: Array<[string, unknown, string]> = [
    ["string with a format", { type: "string", format: "date-time" }, "string"],
    ["integer", { type: "integer" }, "number"],
    ["boolean", { type: "boolean" }, "boolean"],
    ["null", { type: "null" }, "null"],
    ["const", { const: "ok" }, '"ok"'],
    ["enum", { enum: ["a", "b", 3, null] }, '"a" | "b" | 3 | null'],
    ["type list", { type: ["string", "integer"] }, "string | number"],
    ["anyOf with null (Optional)", { anyOf: [{ type: "integer" }, { type: "null" }] }, "number | null"],
    ["oneOf of references", { oneOf: [{ $ref: "#/components/schemas/A" }, { $ref: "#/components/schemas/B" }] }, "TA | TB"],
    ["OpenAPI nullable", { type: "string", nullable: true }, "string | null"],
    ["allOf of one reference", { allOf: [{ $ref: "#/components/schemas/A" }], description: "d" }, "TA"],
    ["allOf intersection", { allOf: [{ $ref: "#/components/schemas/A" }, { $ref: "#/components/schemas/B" }] }, "TA & TB"],
    ["array", { type: "array", items: { type: "string" } }, "string[]"],
    ["array of a union", { type: "array", items: { anyOf: [{ type: "string" }, { type: "null" }] } }, "Array<(string | null)>"],
    ["array without items", { type: "array" }, "unknown[]"],
    ["draft-07 tuple", { type: "array", items: [{ type: "string" }, { type: "integer" }], minItems: 2, additionalItems: false }, "[string, number]"],
    ["prefixItems with a rest", { type: "array", prefixItems: [{ type: "string" }], items: { type: "integer" }, minItems: 1 }, "[string, ...number[]]"],
    ["open object", { type: "object", additionalProperties: true }, "Record<string, unknown>"],
    ["map", { type: "object", additionalProperties: { type: "integer" } }, "Record<string, number>"],
    ["empty closed object", { type: "object", additionalProperties: false }, "Record<string, never>"],
    ["other reference, inlined", { $ref: "#/elsewhere" }, "number"],
    ["true schema", true, "unknown"],
    ["false schema", false, "never"],
    ["nothing known", { description: "anything" }, "unknown"],
  ];
  for (const [name, schema, expected] of cases) {
    test(name, () => assert.equal(toType(schema, input), expected));
  }

  test("objects: required, optional, quoted keys, comments, closed unless additionalProperties", () => {
    const schema = {
      type: "object",
      properties: {
        id: { type: "integer", description: "The id." },
        "user-name": { type: "string" },
        status: { const: "ok", default: "ok" },
      },
      required: ["id"],
    };
    assert.equal(
      toType(schema, input),
      '{\n  /** The id. */\n  id: number;\n  "user-name"?: string;\n  status?: "ok";\n}',
    );
    assert.equal(
      toType(schema, output),
      '{\n  /** The id. */\n  id: number;\n  "user-name"?: string;\n  status: "ok";\n}',
      "the server writes a defaulted field always",
    );
    assert.equal(
      toType({ ...schema, additionalProperties: true }, input).split("\n").at(-2),
      "  [key: string]: unknown;",
    );
  });
});
