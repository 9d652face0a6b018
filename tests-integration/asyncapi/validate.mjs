// Validates an AsyncAPI document with AsyncAPI's own tools: the official 3.0.0 JSON Schema (from
// @asyncapi/specs, checked with ajv) and @asyncapi/parser (its spectral rules, references resolved).
// Usage: node validate.mjs <document.json>
// Prints one JSON object on stdout: the schema's errors, the parser's errors and warnings. It exits 1
// when there is any error (a warning alone does not fail).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

import { Parser } from "@asyncapi/parser";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const require = createRequire(import.meta.url);
const schema = require("@asyncapi/specs/schemas/3.0.0.json");

const [path] = process.argv.slice(2);
const text = await readFile(path, "utf8");
const document = JSON.parse(text);

// The schema carries the draft-07 meta-schema in its definitions: ajv must not add its own copy.
const ajv = new Ajv({ allErrors: true, strict: false, meta: false, validateSchema: false });
addFormats(ajv);
const validate = ajv.compile(schema);
const schemaErrors = validate(document)
  ? []
  : validate.errors.map((error) => `${error.instancePath || "/"} ${error.message} ${JSON.stringify(error.params)}`);

const { diagnostics } = await new Parser().parse(text);
const describe = (diagnostic) => `${diagnostic.code} at /${diagnostic.path.join("/")}: ${diagnostic.message}`;
const parserErrors = diagnostics.filter((diagnostic) => diagnostic.severity === 0).map(describe);
const parserWarnings = diagnostics.filter((diagnostic) => diagnostic.severity === 1).map(describe);

console.log(JSON.stringify({ schemaErrors, parserErrors, parserWarnings }, null, 1));
process.exit(schemaErrors.length || parserErrors.length ? 1 : 0);
