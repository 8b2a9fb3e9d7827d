/** tools/ssl_fine_tune_sweep.ts: the recipe's fine-tuning is the sweep's choice. */
import { SSL_FINE_TUNE_CANDIDATES, SSL_FINE_TUNE_CHOSEN } from "../../tools/ssl_fine_tune_sweep.ts";
import { fullRecipe, quickRecipe } from "../../lib/experiment/recipe.ts";
import { FINE_TUNE_DEFAULTS } from "../../lib/pipeline/fine_tune.ts";
import { assert, assertEquals } from "../assert.ts";

Deno.test("the full and quick recipes fine-tune the SSL arms as the sweep chose", () => {
  const chosen = SSL_FINE_TUNE_CANDIDATES[SSL_FINE_TUNE_CHOSEN];
  for (const recipe of [fullRecipe(), quickRecipe()]) {
    for (const [key, value] of Object.entries(chosen.finetune)) {
      assertEquals(recipe.finetune[key as keyof typeof recipe.finetune], value, key);
    }
  }
  // The chosen candidate pre-trains as the recipe does.
  assertEquals(chosen.pretrainEpochs ?? fullRecipe().pretrain.epochs, fullRecipe().pretrain.epochs);
  assertEquals(chosen.pretrainLr, fullRecipe().pretrain.learningRate);
  // The library's default stays the textbook rate; the recipe is what the sweep moved.
  assertEquals(FINE_TUNE_DEFAULTS.learningRate, 1e-3);
  // Every candidate names its rates: none silently follows the recipe of the day.
  for (const [name, c] of Object.entries(SSL_FINE_TUNE_CANDIDATES)) {
    assert(c.finetune.learningRate !== undefined && c.pretrainLr > 0, name);
  }
});
