/**
 * The notebooks' `saveModel` configuration key: `setupNotebook` resolves it against the
 * repository, and `evaluatedArms` exports the fine-tuned SSL arm best on validation (the rule
 * of `lib/experiment/save_model.ts`) with a card holding every arm's test accuracy.
 */
import { join } from "node:path";
import { loadMnist } from "../../lib/data/mnist.ts";
import { chooseTeacher } from "../../lib/experiment/arms.ts";
import { loadExportedModel } from "../../lib/export/export_model.ts";
import { setupNotebook } from "../../lib/notebook/setup.ts";
import { evaluatedArms, pretrained } from "../../lib/notebook/steps.ts";
import { projectRoot } from "../../lib/notebook/config.ts";
import { tinyRecipe } from "../experiment/tiny_recipe.ts";
import { assert, assertEquals } from "../assert.ts";

Deno.test({
  name: "notebooks: saveModel exports the SSL arm best on validation, with its card",
  sanitizeResources: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "ssl-save-model-" });
    try {
      const data = await loadMnist();
      const relative = await setupNotebook(
        { dataset: "mnist", labels: 40, seed: 0, quick: true, saveModel: "data/models/x" },
        { data, show: false },
      );
      assertEquals(relative.ctx.saveModel, join(projectRoot(), "data/models/x"));
      const dir = join(root, "model");
      const { ctx } = await setupNotebook(
        { dataset: "mnist", labels: 40, seed: 0, quick: true, saveModel: dir },
        { data, show: false },
      );
      // The tiny budget of the tests, and no cache.
      const tiny = tinyRecipe();
      Object.assign(ctx.config, {
        pretrain: tiny.pretrain,
        finetune: tiny.finetune,
        maxUnlabelled: tiny.maxUnlabelled,
        maxTest: tiny.maxTest,
      });
      ctx.dir = undefined;
      ctx.testCount = 300;
      const pre = await pretrained(ctx);
      const arms = ["ssl_same_head", "ssl_new_head", "linear_probe"] as const;
      const outcomes = await evaluatedArms(ctx, pre, { arms });
      pre.dispose();
      const tuned = outcomes.flatMap((o) =>
        o.skipped === undefined && o.result ? [{ arm: o.arm, model: { result: o.result } }] : []
      );
      const expected = chooseTeacher(tuned)!.arm;
      const model = await loadExportedModel(dir, { data: data.test });
      assertEquals(model.card.classifier?.arm, expected);
      assertEquals(Object.keys(model.card.testAccuracy!).sort(), [...arms].sort());
      assert(model.card.selection!.includes("validation"));
      assertEquals(model.card.dataset.classNames, data.test.classNames);
      const scored = outcomes.find((o) => o.arm === expected)!;
      assert(scored.skipped === undefined);
      // The exported classifier gives the arm's own test predictions.
      const classes = await model.predict(data.test.images, ctx.testCount);
      assertEquals(Array.from(classes), Array.from(scored.predictions));
      model.dispose();
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
