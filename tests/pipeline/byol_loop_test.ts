/**
 * docs/api.md's BYOL loop (the block after `<!-- byol-loop -->`), run as written: it must only
 * need `lib/mod.ts` and tfjs, train without error, and bring the loss down.
 */
import { assert } from "../assert.ts";
import { runApiDocBlock } from "./doc_block.ts";

Deno.test({
  name: "docs/api.md: the BYOL loop (momentum network, EMA) runs as written on lib/mod.ts alone",
  sanitizeResources: false,
  fn: async () => {
    const out = await runApiDocBlock("byol-loop");
    const losses = [...out.matchAll(/loss (-?\d+\.\d+)/g)].map((m) => Number(m[1]));
    assert(losses.length === 4, `4 steps of 128 pairs on 512 images: ${losses}`);
    assert(losses.every((l) => l >= -1 && l <= 1), `a negative cosine: ${losses}`);
    assert(losses.at(-1)! < losses[0], `the loss falls: ${losses}`);
  },
});
