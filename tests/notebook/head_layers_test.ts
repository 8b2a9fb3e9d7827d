import { initBackend } from "../../lib/backend.ts";
import { loadMnist } from "../../lib/data/mnist.ts";
import { bestHeadLayer, headDepth, headLayerCurve } from "../../lib/notebook/head_layers.ts";
import { runSeed } from "../../lib/experiment/run_seed.ts";
import { prepareContext, pretrained } from "../../lib/notebook/steps.ts";
import { assert, assertEquals } from "../assert.ts";
import { tinyRecipe } from "../experiment/tiny_recipe.ts";

Deno.test({
  name: "fine-tuning from layer k of the head: k = 0..depth, the arms' own validation figures",
  sanitizeResources: false,
  fn: async () => {
    await initBackend();
    const data = await loadMnist();
    const config = tinyRecipe();
    const ctx = await prepareContext(config, 0, { data, cache: false });
    assertEquals(headDepth(ctx), 2, "SimCLR's head: 128 (batch norm), classes");
    const pre = await pretrained(ctx);
    const curve = await headLayerCurve(ctx, pre);
    pre.dispose();
    assertEquals(curve.map((p) => p.k), [0, 1, 2]);
    assertEquals(curve.map((p) => p.arm), ["ssl_new_head", "ssl_head_layer1", "ssl_same_head"]);
    // The points with an arm are that arm, as the experiment trains it.
    const r = await runSeed(config, data, 0);
    for (const p of curve.filter((p) => p.arm)) {
      const f = r.finetune[p.arm as "ssl_new_head"]!;
      assertEquals(p.validationAccuracy, f.history[f.selectedEpoch].validationAccuracy, p.label);
    }
    const best = bestHeadLayer(curve);
    assert(curve.every((p) => p.validationAccuracy <= best.validationAccuracy));
  },
});
