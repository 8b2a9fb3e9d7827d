/**
 * docs/api.md's training loop of your own (the block after `<!-- custom-loop -->`), run as
 * written: it must only need `lib/mod.ts` and tfjs, train without error, and leave a backbone
 * whose kNN beats chance on the validation images.
 */
import { assert } from "../assert.ts";
import { runApiDocBlock } from "./doc_block.ts";

Deno.test({
  name: "docs/api.md: the custom SimCLR loop runs as written on lib/mod.ts alone",
  sanitizeResources: false,
  fn: async () => {
    const out = await runApiDocBlock("custom-loop");
    const losses = [...out.matchAll(/loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
    assert(losses.length === 8, `8 steps of 256 pairs on 2,048 images: ${losses}`);
    assert(losses.at(-1)! < losses[0], `the loss falls: ${losses}`);
    const right = Number(/kNN on h: (\d+) of 40/.exec(out)?.[1]);
    assert(right > 4 * 1.5, `kNN beats chance (4 of 40): ${out}`);
  },
});
