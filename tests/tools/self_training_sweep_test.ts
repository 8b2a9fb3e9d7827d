/** tools/self_training_sweep.ts: the recipe's self-training is the sweep's choice. */
import { SELF_TRAINING_CANDIDATES, SELF_TRAINING_CHOSEN } from "../../tools/self_training_sweep.ts";
import { fullRecipe, quickRecipe } from "../../lib/experiment/recipe.ts";
import { assert, assertEquals } from "../assert.ts";

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
