/**
 * The README's "Use it from code" example is lib/mod.ts's example, so that the two cannot drift
 * apart. The example is run once, as a reader would (tests/e2e/readme_example_test.ts, in
 * `deno task test:all`), which is why lib/mod.ts marks its copy `ignore`.
 */
import { join } from "node:path";
import { assertEquals } from "../assert.ts";
import { moduleExample, readmeExample, root } from "./readme_example.ts";

Deno.test("the README's example is lib/mod.ts's example (the same program, laid out alike or not)", async () => {
  const readme = readmeExample(await Deno.readTextFile(join(root, "README.md")));
  const api = moduleExample(await Deno.readTextFile(join(root, "lib", "mod.ts")));
  const same = (code: string) => code.replaceAll("./lib/mod.ts", "./mod.ts").replace(/\s+/g, "");
  assertEquals(same(api), same(readme));
});
