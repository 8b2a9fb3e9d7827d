/**
 * The experiment (`runSeed`) and the notebooks' cached steps (`evaluatedArms`)
 * are one pipeline: one quick seed gives the same test accuracy for every arm
 * through both — first training (on the arm pool when there are two cores),
 * then reading every fine-tuned arm back from its tfjs checkpoint.
 */
import { initBackend } from "../../lib/backend.ts";
import { loadMnist } from "../../lib/data/mnist.ts";
import { ARMS, isFineTunedArm } from "../../lib/experiment/arms.ts";
import { tinyRecipe } from "../experiment/tiny_recipe.ts";
import { runSeed } from "../../lib/experiment/run_seed.ts";
import { trainingWorkers } from "../../lib/backend.ts";
import {
  evaluatedArms,
  prepareContext,
  pretrained,
  trainArmsAhead,
} from "../../lib/notebook/steps.ts";
import { assert, assertEquals } from "../assert.ts";

Deno.test({
  name: "runSeed and the notebook steps give identical accuracies for every arm",
  sanitizeResources: false,
  fn: async () => {
    await initBackend();
    const data = await loadMnist();
    const config = tinyRecipe();
    const experiment = await runSeed(config, data, 0);
    const root = await Deno.makeTempDir({ prefix: "ssl-agreement-" });
    try {
      for (const pass of ["trained", "loaded"]) {
        const ctx = await prepareContext(config, 0, { data, root });
        const pre = await pretrained(ctx);
        // With two cores or more, the first pass trains the fine-tuned arms on the arm pool
        // (one worker per core) and the second reads them all back.
        const ahead = await trainArmsAhead(ctx, pre, ARMS);
        assertEquals(
          ahead,
          pass === "trained" && trainingWorkers("auto") > 1 ? ARMS.filter(isFineTunedArm) : [],
          `${pass}: arms trained on the pool`,
        );
        const outcomes = await evaluatedArms(ctx, pre);
        pre.dispose();
        assertEquals(outcomes.map((o) => o.arm), [...ARMS]);
        for (const o of outcomes) {
          assert(o.skipped === undefined, `${o.arm} skipped: ${o.skipped}`);
          assertEquals(o.accuracy, experiment.testAccuracy[o.arm], `${pass}: ${o.arm}`);
        }
      }
      const chance = ARMS.filter((a) => experiment.testAccuracy[a]! > 0.15);
      assert(
        chance.length >= 4,
        `most arms beat chance: ${JSON.stringify(experiment.testAccuracy)}`,
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "a head that cannot be kept skips the same-head arm with a reason naming both widths",
  sanitizeResources: false,
  fn: async () => {
    await initBackend();
    const data = await loadMnist();
    const config = { ...tinyRecipe(), head: { kind: "mlp" as const, hidden: [32], outputDim: 16 } };
    const r = await runSeed(config, data, 0);
    assertEquals(r.testAccuracy.ssl_same_head, undefined);
    assert(
      /outputs 16 values.*\(10\)/.test(r.skipped.ssl_same_head ?? ""),
      r.skipped.ssl_same_head,
    );
    assert(r.testAccuracy.ssl_new_head! > 0, "the other arms still run");
  },
});
