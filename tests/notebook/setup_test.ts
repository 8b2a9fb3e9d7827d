import { notebookRecipe } from "../../lib/notebook/setup.ts";
import { fullRecipe, quickRecipe } from "../../lib/experiment/recipe.ts";
import { assertEquals, assertThrows } from "../assert.ts";

Deno.test("a notebook's configuration cell becomes the experiment's recipe", () => {
  const r = notebookRecipe({
    dataset: "mnist",
    labels: 100,
    seed: 3,
    quick: true,
    temperature: 0.1,
  });
  assertEquals(r.labels, 100);
  assertEquals(r.validation, 20);
  assertEquals(r.seeds, [3]);
  assertEquals(r.quick, true);
  assertEquals(r.pretrain.temperature, 0.1);
  assertEquals(r.pretrain.epochs, quickRecipe().pretrain.epochs);
  const full = notebookRecipe({
    dataset: "mnist",
    labels: 200,
    seed: 0,
    quick: false,
    pretrainEpochs: 3,
  });
  assertEquals(full.pretrain.epochs, 3);
  assertEquals(full.finetune, fullRecipe().finetune);
  // Fashion-MNIST gets augmentations that fit clothes, as in `deno task experiment`.
  assertEquals(
    notebookRecipe({ dataset: "fashion-mnist", labels: 200, seed: 0, quick: true }).pretrainAugment
      .preset,
    "crop-flip",
  );
  assertThrows(
    () => notebookRecipe({ dataset: "mnist", labels: 1, seed: 0, quick: true }),
    "labels must be",
  );
});
