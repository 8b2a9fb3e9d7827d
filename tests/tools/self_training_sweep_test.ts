/** tools/self_training_sweep.ts: the dev holdout is never trained on; the recipe is the choice. */
import {
  devHoldout,
  SELF_TRAINING_CANDIDATES,
  SELF_TRAINING_CHOSEN,
} from "../../tools/self_training_sweep.ts";
import { fullRecipe, quickRecipe } from "../../lib/experiment/recipe.ts";
import { assert, assertEquals } from "../assert.ts";

Deno.test("devHoldout: the first images are scored, the rest are the students'; none in both", () => {
  const pool = Int32Array.from([9, 4, 7, 1, 3]);
  const { dev, unlabelled } = devHoldout(pool, 2);
  assertEquals(Array.from(dev), [9, 4]);
  assertEquals(Array.from(unlabelled), [7, 1, 3]);
  // A dev holdout as large as the pool still leaves the students one image.
  const all = devHoldout(pool, 10);
  assertEquals([all.dev.length, all.unlabelled.length], [4, 1]);
  assert(!Array.from(all.dev).some((i) => all.unlabelled.includes(i)));
});

Deno.test("the full recipe's self-training is the sweep's choice; the quick recipe keeps its own budget", () => {
  const chosen = SELF_TRAINING_CANDIDATES[SELF_TRAINING_CHOSEN];
  const { distill } = fullRecipe();
  for (const [key, value] of Object.entries(chosen)) {
    assertEquals(distill[key as keyof typeof distill], value, key);
  }
  assertEquals(quickRecipe().distill.threshold, chosen.threshold);
  assertEquals(quickRecipe().distill.steps, 60);
  // Every candidate names its threshold and budget: none silently follows the recipe of the day.
  for (const [name, c] of Object.entries(SELF_TRAINING_CANDIDATES)) {
    assert(c.threshold !== undefined && c.steps !== undefined, name);
  }
});
