/** A recipe small enough for tests that run every arm. */
import { quickRecipe } from "../../lib/experiment/recipe.ts";
import { quickBaselines } from "../../lib/experiment/baselines.ts";

/** A recipe small enough for a test: every arm, a few steps each. */
export function tinyRecipe() {
  const r = quickRecipe();
  r.maxUnlabelled = 512;
  r.maxTest = 300;
  r.pretrain = { ...r.pretrain, epochs: 1, batchSize: 128, maxStepsPerEpoch: 2 };
  r.finetune = { ...r.finetune, steps: 12 };
  r.probe = { ...r.probe, epochs: 20 };
  r.distill = { ...r.distill, steps: 6, unlabelledBatch: 32 };
  const b = quickBaselines();
  b.article.config.epochs = 4;
  b.strong.config = { ...b.strong.config, steps: 12 };
  return { ...r, baselines: b };
}
