/**
 * Every TypeScript example of the documentation compiles, with the package's strict options, against
 * the built package (imported by its name, as a user would). Each example becomes a module of its own
 * beside a prelude that declares what the examples take from the application around them, and the
 * `./contract.js` the typed example imports.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const REPOSITORY = join(PACKAGE, "..", "..");
const DOCUMENTS = ["README.md", "docs/en/typescript-client.md", "docs/pl/typescript-client.md"];
const TSC = join(PACKAGE, "node_modules", "typescript", "bin", "tsc");
const OUT = join(PACKAGE, "build-test", "docs-examples");

function examples(document: string): string[] {
  const text = readFileSync(join(REPOSITORY, document), "utf8");
  return [...text.matchAll(/^```typescript\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? "");
}

test("every TypeScript example of the documentation compiles", () => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  copyFileSync(join(PACKAGE, "test", "docs", "prelude.ts"), join(OUT, "prelude.ts"));
  copyFileSync(join(PACKAGE, "test", "docs", "contract.ts"), join(OUT, "contract.ts"));
  const files: string[] = [];
  for (const document of DOCUMENTS) {
    const found = examples(document);
    assert.ok(found.length > 0, `${document} has TypeScript examples`);
    found.forEach((code, index) => {
      const name = `${document.replaceAll(/[/.]/g, "_")}_${index + 1}.ts`;
      // A module of its own (top-level await, no clashes between examples); `client` where an
      // example uses one it did not create.
      const declared = /\bconst client\b/.test(code) ? "" : 'declare const client: import("@beeflow/websocket-client").BeeflowClient;\n';
      writeFileSync(join(OUT, name), `${declared}${code}\nexport {};\n`);
      files.push(name);
    });
  }
  let output = "";
  try {
    execFileSync(
      process.execPath,
      [TSC, "--noEmit", "--pretty", "false", "--strict", "--noUncheckedIndexedAccess", "--exactOptionalPropertyTypes",
       "--target", "ES2022", "--module", "NodeNext", "--moduleResolution", "NodeNext", "--lib", "ES2022,DOM",
       "--types", "node", "prelude.ts", ...files],
      { cwd: OUT, encoding: "utf8" },
    );
  } catch (error) {
    output = String((error as { stdout?: unknown }).stdout ?? error);
  }
  assert.equal(output, "", output);
});
