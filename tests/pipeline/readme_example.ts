/**
 * The README's "Use it from code" example and lib/mod.ts's example, read from their files
 * (tests/pipeline/readme_example_test.ts checks they are one program; tests/e2e/
 * readme_example_test.ts runs it).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { assert } from "../assert.ts";

/** The repository root. */
export const root: string = fileURLToPath(new URL("../../", import.meta.url));

/** The first ```ts block after the marker in the README. */
export function readmeExample(readme: string): string {
  const at = readme.indexOf("<!-- readme-example -->");
  assert(at >= 0, "the README has the readme-example marker");
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  assert(m, "a ts code block follows the marker");
  return m[1];
}

/** The first ```ts block of a module's documentation, without the ` * ` of each line. */
export function moduleExample(source: string): string {
  const m = /```ts[^\n]*\n([\s\S]*?) \* ```/.exec(source);
  assert(m, "a ts code block in the module documentation");
  return m[1].split("\n").map((line) => line.replace(/^ \*( |$)/, "")).join("\n");
}
