/**
 * The README's "Use it from code" example runs exactly as written: the code block after the
 * `readme-example` marker is saved in the repository root and run with `deno run -A`, as a
 * reader would (it is lib/mod.ts's example too: tests/pipeline/readme_example_test.ts).
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { readmeExample, root } from "../pipeline/readme_example.ts";

Deno.test({
  name: "the README's 'Use it from code' example runs as written and prints a real accuracy",
  sanitizeResources: false,
  fn: async () => {
    const code = readmeExample(await Deno.readTextFile(join(root, "README.md")));
    assert(code.includes('from "./lib/mod.ts"'), "it imports the public API");
    const file = join(root, `.readme-example-${Deno.pid}.ts`);
    await Deno.writeTextFile(file, code);
    try {
      const { code: status, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-check=remote", file],
        cwd: root,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(stdout);
      assertEquals(status, 0, out + new TextDecoder().decode(stderr));
      const m = /test accuracy (\d+\.\d)%/.exec(out);
      assert(m, `it prints the accuracy: ${out}`);
      // Well above chance (10%): a short pre-training and 40 epochs on 160 labels.
      assert(Number(m[1]) > 50, `accuracy ${m[1]}%`);
    } finally {
      await Deno.remove(file);
    }
  },
});
