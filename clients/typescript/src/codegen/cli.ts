#!/usr/bin/env node
/**
 * The `beeflow-websocket-types` command: reads a contract document (a file, or `-` for standard
 * input) and writes the TypeScript module of its types (to `-o <file>`, or standard output).
 */
/// <reference types="node" />

import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { generate } from "./generate.js";

const USAGE = `usage: beeflow-websocket-types <asyncapi.json | -> [-o <out.ts>]

Writes the TypeScript types of a beeflow-websocket contract document, for BeeflowClient<Contract>.
Get the document with \`beeflow-websocket-asyncapi module:app -o asyncapi.json\` (FastAPI, Flask),
\`python manage.py beeflow_asyncapi -o asyncapi.json\` (Django), or from /asyncapi.json.
`;

function main(argv: string[]): number {
  let input: string | null = null;
  let output: string | null = null;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    if (arg === "-h" || arg === "--help") {
      process.stdout.write(USAGE);
      return 0;
    }
    if (arg === "-o" || arg === "--output") {
      const next = argv[index + 1];
      if (next === undefined) break;
      output = next;
      index += 1;
    } else if (input === null) {
      input = arg;
    } else {
      process.stderr.write(USAGE);
      return 2;
    }
  }
  if (input === null) {
    process.stderr.write(USAGE);
    return 2;
  }
  let module: string;
  try {
    const text = readFileSync(input === "-" ? 0 : input, "utf8");
    module = generate(JSON.parse(text), { source: input === "-" ? "standard input" : basename(input) });
  } catch (error) {
    process.stderr.write(`beeflow-websocket-types: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  if (output === null) process.stdout.write(module);
  else writeFileSync(output, module);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
