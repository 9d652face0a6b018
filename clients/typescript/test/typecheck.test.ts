/**
 * The compile-time promises of a typed client: tsc, with the package's strict options, compiles
 * test/typecheck/correct.ts cleanly and reports an error on each marked line of
 * test/typecheck/mistakes.ts, and on no other.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const OPTIONS = [
  "--noEmit",
  "--pretty", "false",
  "--strict",
  "--noUncheckedIndexedAccess",
  "--exactOptionalPropertyTypes",
  "--target", "ES2022",
  "--module", "NodeNext",
  "--moduleResolution", "NodeNext",
  "--lib", "ES2022,DOM",
  "--types", "node",
];

/** The lines (1-based) tsc reports errors on, for `file`. */
function errorLines(file: string): { lines: number[]; output: string } {
  let output = "";
  try {
    execFileSync(process.execPath, [TSC, ...OPTIONS, file], { cwd: ROOT, encoding: "utf8" });
  } catch (error) {
    output = String((error as { stdout?: unknown }).stdout ?? "");
  }
  const lines = [...output.matchAll(/^(.+?)\((\d+),\d+\): error TS\d+/gm)].map((match) => {
    assert.ok(match[1]?.endsWith(file.split("/").at(-1) ?? ""), `an error in another file: ${match[0]}`);
    return Number(match[2]);
  });
  return { lines: [...new Set(lines)].sort((a, b) => a - b), output };
}

test("the correct use compiles with zero errors", () => {
  const { lines, output } = errorLines("test/typecheck/correct.ts");
  assert.deepEqual(lines, [], output);
});

test("each marked mistake is a compile error, and nothing else is", () => {
  const file = "test/typecheck/mistakes.ts";
  const marked = readFileSync(join(ROOT, file), "utf8")
    .split("\n")
    .flatMap((line, index) => (/\/\/ error:/.test(line) ? [index + 1] : []));
  assert.ok(marked.length >= 10, "the mistakes file marks its lines");
  const { lines, output } = errorLines(file);
  assert.deepEqual(lines, marked, output);
});
