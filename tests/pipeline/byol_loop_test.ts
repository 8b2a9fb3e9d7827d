/**
 * docs/api.md's BYOL loop (the block after `<!-- byol-loop -->`), run as written: it must only
 * need `lib/mod.ts` and tfjs, train without error, and bring the loss down.
 */
import { assert } from "../assert.ts";

Deno.test({
  name: "docs/api.md: the BYOL loop (momentum network, EMA) runs as written on lib/mod.ts alone",
  sanitizeResources: false,
  fn: async () => {
    const root = new URL("../../", import.meta.url);
    const doc = await Deno.readTextFile(new URL("docs/api.md", root));
    const block = /<!-- byol-loop -->\s*```ts\n([\s\S]*?)```/.exec(doc)?.[1];
    assert(block, "docs/api.md has the byol-loop block");
    const imports = [...block.matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
    assert(
      imports.every((i) => i === "@tensorflow/tfjs" || i === "./lib/mod.ts"),
      `only tfjs and lib/mod.ts are imported: ${imports}`,
    );
    const file = new URL(`.byol-loop-${Deno.pid}.ts`, root);
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
      const losses = [...out.matchAll(/loss (-?\d+\.\d+)/g)].map((m) => Number(m[1]));
      assert(losses.length === 4, `4 steps of 128 pairs on 512 images: ${losses}`);
      assert(losses.every((l) => l >= -1 && l <= 1), `a negative cosine: ${losses}`);
      assert(losses.at(-1)! < losses[0], `the loss falls: ${losses}`);
    } finally {
      await Deno.remove(file);
    }
  },
});
