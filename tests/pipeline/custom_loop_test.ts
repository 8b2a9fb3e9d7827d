/**
 * docs/api.md's training loop of your own (the block after `<!-- custom-loop -->`), run as
 * written: it must only need `lib/mod.ts` and tfjs, train without error, and leave a backbone
 * whose kNN beats chance on the validation images.
 */
import { assert } from "../assert.ts";

Deno.test({
  name: "docs/api.md: the custom SimCLR loop runs as written on lib/mod.ts alone",
  sanitizeResources: false,
  fn: async () => {
    const root = new URL("../../", import.meta.url);
    const doc = await Deno.readTextFile(new URL("docs/api.md", root));
    const block = /<!-- custom-loop -->\s*```ts\n([\s\S]*?)```/.exec(doc)?.[1];
    assert(block, "docs/api.md has the custom-loop block");
    const imports = [...block.matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
    assert(
      imports.every((i) => i === "@tensorflow/tfjs" || i === "./lib/mod.ts"),
      `only tfjs and lib/mod.ts are imported: ${imports}`,
    );
    const file = new URL(`.custom-loop-${Deno.pid}.ts`, root);
    await Deno.writeTextFile(file, block);
    try {
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-check=remote", file.pathname],
        cwd: root,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(stdout);
      const err = new TextDecoder().decode(stderr);
      assert(code === 0, `exit ${code}: ${out}\n${err}`);
      const losses = [...out.matchAll(/loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
      assert(losses.length === 8, `8 steps of 256 pairs on 2,048 images: ${losses}`);
      assert(losses.at(-1)! < losses[0], `the loss falls: ${losses}`);
      const right = Number(/kNN on h: (\d+) of 40/.exec(out)?.[1]);
      assert(right > 4 * 1.5, `kNN beats chance (4 of 40): ${out}`);
    } finally {
      await Deno.remove(file);
    }
  },
});
