import type { ImageDataset } from "../../lib/data/dataset.ts";
import {
  checkLabelBudget,
  COLOUR_FOLDER_BUDGET,
  defaultLabelBudget,
  fullRecipe,
  quickRecipe,
  recipeFor,
  withFineTuneBudget,
  withPretrainAugment,
} from "../../lib/experiment/recipe.ts";
import { baselinesFor } from "../../lib/experiment/baselines.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

/** A dataset of blank images with `perClass[c]` images of class c and `unlabelled` with -1. */
function fakeDataset(perClass: number[], unlabelled = 0, channels = 3): ImageDataset {
  const labels = [...perClass.flatMap((n, c) => Array(n).fill(c)), ...Array(unlabelled).fill(-1)];
  const count = labels.length;
  return {
    name: "fake train",
    images: new Float32Array(count * 8 * 8 * channels),
    labels: Int32Array.from(labels),
    count,
    height: 8,
    width: 8,
    channels,
    classNames: perClass.map((_, c) => `class${c}`),
  };
}

Deno.test("recipeFor: MNIST is the full recipe; Fashion-MNIST swaps the augmentations for clothes", () => {
  assertEquals(recipeFor("mnist", true), quickRecipe("mnist"));
  assertEquals(recipeFor("mnist", false), fullRecipe("mnist"));
  const mnist = fullRecipe();
  assertEquals(mnist.backbone, { kind: "cnn" }, "the modern CNN");
  assertEquals(mnist.head, { kind: "mlp", hidden: [128], batchNorm: true }, "SimCLR's head");
  assertEquals(mnist.pretrainAugment, { preset: "stroke", strength: 1 });
  assertEquals(mnist.finetune.steps, 1500, "a budget in optimiser steps");
  assertEquals(mnist.distill.mode, "self-training");
  for (const quick of [true, false]) {
    const f = recipeFor("fashion-mnist", quick);
    assertEquals(f.dataset, "fashion-mnist");
    assertEquals(f.quick, quick);
    assertEquals(f.backbone, { kind: "cnn" });
    assertEquals(f.pretrainAugment, { preset: "crop-flip", strength: 1 });
    assertEquals(f.finetuneAugment, { preset: "affine-flip", strength: 1 });
    assertEquals(f.labels, 200);
  }
});

Deno.test("recipeFor: colour folders get the resnet and SimCLR's augmentation, grey ones the CNN", () => {
  const colour = recipeFor("folder:/x", true, fakeDataset([60, 60, 60, 60], 10));
  assertEquals(colour.backbone, { kind: "resnet", width: 16, depth: 3 });
  assertEquals(colour.pretrainAugment.preset, "colour");
  assertEquals(colour.finetuneAugment, { preset: "affine-flip", strength: 1 });
  assertEquals(colour.labels, 60, "a quarter of the 240 labelled images");
  assertEquals(colour.validation, 12);
  assertEquals(colour.pretrain.batchSize, 128);
  assert(colour.pretrain.epochs >= 3 && colour.pretrain.epochs <= 30);
  assertEquals(colour.knnK, 8);
  const grey = recipeFor("folder:/x", false, fakeDataset([600, 600], 0, 1));
  // Grey images: the modern CNN at 32/64/128 channels; a quick run at the article's widths.
  assertEquals(grey.backbone, { kind: "cnn", channels: [32, 64, 128] });
  assertEquals(recipeFor("folder:/x", true, fakeDataset([600, 600], 0, 1)).backbone, {
    kind: "cnn",
  });
  // Grey content: crops, no mirror images for pre-training, the mild affine for fine-tuning.
  assertEquals(grey.pretrainAugment, { preset: "crop", strength: 1 });
  assertEquals(grey.finetuneAugment, { preset: "affine", strength: 1 });
  assertEquals(grey.labels, 200);
  assertEquals(grey.pretrain.batchSize, 256);
  // 1000 unlabelled / 256 = 3 steps an epoch: about 900 steps need 200 epochs at most.
  assertEquals(grey.pretrain.epochs, 200);
  // Without the data (channels unknown): colour.
  assertEquals(recipeFor("folder:/x", true).backbone.kind, "resnet");
});

Deno.test("recipeFor: colour folders fine-tune on the colour budget, every fine-tuned arm alike; grey and quick keep theirs", () => {
  const colour = recipeFor("folder:/x", false, fakeDataset([600, 600, 600], 3000));
  const { steps, unlabelledBatch } = COLOUR_FOLDER_BUDGET;
  assert(steps < (fullRecipe().finetune.steps as number), "the colour budget is the shorter one");
  assertEquals(colour.finetune.steps, steps);
  assertEquals(baselinesFor(colour).strong.config.steps, steps, "the strong baseline too");
  assertEquals([colour.distill.steps, colour.distill.unlabelledBatch], [steps, unlabelledBatch]);
  // The strong baseline keeps the folder's fine-tuning augmentation (mirror images for colour).
  assertEquals(baselinesFor(colour).strong.augment, { preset: "affine-flip", strength: 1 });
  // Pre-training keeps its full budget: about 900 steps of 256 pairs over the 4,600 unlabelled.
  assertEquals(colour.pretrain.batchSize, 256);
  assertEquals(colour.pretrain.epochs * Math.floor(4600 / 256), 53 * 17);
  const grey = recipeFor("folder:/x", false, fakeDataset([600, 600], 1000, 1));
  assertEquals(grey.finetune.steps, fullRecipe().finetune.steps);
  assertEquals(grey.distill, fullRecipe().distill);
  assertEquals(grey.baselines, undefined);
  const quick = recipeFor("folder:/x", true, fakeDataset([600, 600, 600], 3000));
  assertEquals(quick.finetune.steps, quickRecipe().finetune.steps);
  assertEquals(quick.distill, quickRecipe().distill);
});

Deno.test("withFineTuneBudget: the fine-tunes, the strong baseline and the students; the article's baseline untouched", () => {
  const config = withFineTuneBudget(fullRecipe(), 700, 96);
  assertEquals(config.finetune.steps, 700);
  const b = baselinesFor(config);
  assertEquals(b.strong.config.steps, 700);
  assertEquals(b.article, baselinesFor(fullRecipe()).article);
  assertEquals([config.distill.steps, config.distill.unlabelledBatch], [700, 96]);
  // Without a batch, the students keep theirs.
  assertEquals(withFineTuneBudget(fullRecipe(), 300).distill.unlabelledBatch, 256);
});

Deno.test("defaultLabelBudget: a quarter of the labels, 2 per class at least, fits the smallest class", () => {
  assertEquals(defaultLabelBudget(fakeDataset([5000, 5000])), 200);
  assertEquals(defaultLabelBudget(fakeDataset([40, 40, 40])), 30);
  assertEquals(defaultLabelBudget(fakeDataset([3, 3, 3, 3])), 8);
  assertEquals(defaultLabelBudget(fakeDataset([400, 5])), 10, "2 x the smallest class");
});

Deno.test("checkLabelBudget: a budget larger than the labelled images is a clear error with the counts", () => {
  const train = fakeDataset([30, 20], 100);
  const config = { ...quickRecipe("folder:/photos"), labels: 80, validation: 16, balanced: false };
  assertThrows(
    () => checkLabelBudget(config, train),
    "dataset folder:/photos",
    "--labels 80",
    "more than the 50 labelled training images",
    "class0 30, class1 20",
    "use --labels 50 or fewer",
  );
  assertThrows(
    () => checkLabelBudget({ ...config, labels: 50, balanced: true }, train),
    "balanced label budget of 50 over 2 classes needs up to 25",
    'class "class1" has only 20',
    "use --labels 40 or fewer",
  );
  checkLabelBudget({ ...config, labels: 40, balanced: true }, train);
  assertThrows(
    () => checkLabelBudget({ ...config, labels: 50 }, fakeDataset([30, 20], 2)),
    "leaves 2 of the 52 training images",
    "at least 4",
  );
});

Deno.test("describeRecipe: a backbone set by hand is named as such, beside the data's own choice", async () => {
  const { describeRecipe } = await import("../../lib/experiment/recipe_summary.ts");
  const grey = fakeDataset([30, 30], 200, 1);
  const auto = describeRecipe(fullRecipe(), grey)[0];
  assert(auto.startsWith("backbone cnn: mnist: the modern CNN at the article's widths"), auto);
  const wide = describeRecipe(
    { ...fullRecipe(), backbone: { kind: "cnn", channels: [32, 64, 128] } },
    grey,
  )[0];
  assert(/^backbone cnn-wide \(set by hand; the data would choose cnn: /.test(wide), wide);
  // A grey folder: the wide CNN, said with its measured reason; by hand the small one.
  const folder = recipeFor("folder:/x", false, grey);
  const own = describeRecipe(folder, grey)[0];
  assert(
    own.startsWith("backbone cnn-wide: grey images of 8x8: the modern CNN at 32/64/128"),
    own,
  );
  const small = describeRecipe({ ...folder, backbone: { kind: "cnn" } }, grey)[0];
  assert(small.startsWith("backbone cnn (set by hand; the data would choose cnn-wide: "), small);
  const quick = describeRecipe(recipeFor("folder:/x", true, grey), grey)[0];
  assert(quick.startsWith("backbone cnn: grey images of 8x8, a quick run"), quick);
});

Deno.test("estimateSeconds: a wider CNN takes the square root of its multiply-adds longer (measured)", async () => {
  const { cnnCost, cnnTimeFactor, estimateSeconds } = await import(
    "../../lib/experiment/recipe_summary.ts"
  );
  assertEquals(cnnCost(undefined), 1);
  assertEquals(cnnCost([16, 16, 32]), 1);
  const wide = cnnCost([32, 64, 128]);
  assert(wide > 9 && wide < 10, `cnn-wide: ${wide}x`);
  assertEquals(cnnTimeFactor([32, 64, 128]), Math.sqrt(wide));
  const grey = fakeDataset([30, 30], 2000, 1);
  const base = estimateSeconds(fullRecipe(), grey);
  const wider = estimateSeconds({
    ...fullRecipe(),
    backbone: { kind: "cnn", channels: [32, 64, 128] },
  }, grey);
  // Every arm but the article's own (its own backbone) scales by the factor.
  assert(wider > 2.5 * base && wider < Math.sqrt(wide) * base, `${base} s vs ${wider} s`);
});

Deno.test("describeRecipe: the colour budget says so and how to train the long recipe; grey folders and the long recipe do not", async () => {
  const { describeRecipe } = await import("../../lib/experiment/recipe_summary.ts");
  const train = fakeDataset([600, 600, 600], 3000);
  const said = (lines: string[]) => lines.some((l) => l.startsWith("the colour budget"));
  const budget = describeRecipe(recipeFor("folder:/x", false, train), train);
  assert(said(budget), budget.join("\n"));
  assert(budget.some((l) => l.includes("--finetune-steps 1500 --student-batch 256")));
  const long = withFineTuneBudget(recipeFor("folder:/x", false, train), 1500, 256);
  assert(!said(describeRecipe(long, train)));
  const grey = fakeDataset([600, 600], 1000, 1);
  assert(!said(describeRecipe(recipeFor("folder:/x", false, grey), grey)));
});

Deno.test("withPretrainAugment: fine-tuning mirrors the labelled images exactly when pre-training's views do", () => {
  // A grey folder of clothes: the user says mirrors keep the label by choosing crop-flip.
  const grey = withPretrainAugment(
    recipeFor("folder:/x", false, fakeDataset([600, 600], 0, 1)),
    "crop-flip",
  );
  assertEquals(grey.pretrainAugment, { preset: "crop-flip", strength: 1 });
  assertEquals(grey.finetuneAugment, { preset: "affine-flip", strength: 1 });
  assertEquals(baselinesFor(grey).strong.augment, { preset: "affine-flip", strength: 1 });
  // Views that do not mirror take mirroring away from fine-tuning (Fashion-MNIST's is affine-flip).
  const fashion = withPretrainAugment(recipeFor("fashion-mnist", false), "crop");
  assertEquals(fashion.finetuneAugment, { preset: "affine", strength: 1 });
  // Recipes whose baselines are already written down (the colour budget) follow too.
  const colour = withPretrainAugment(
    recipeFor("folder:/x", false, fakeDataset([600, 600, 600], 3000)),
    "crop",
  );
  assertEquals(colour.baselines!.strong.augment.preset, "affine");
  assertEquals(colour.finetuneAugment.preset, "affine");
  // MNIST's digits keep the mild affine with stroke or digits views.
  assertEquals(
    withPretrainAugment(fullRecipe(), "digits").finetuneAugment,
    fullRecipe().finetuneAugment,
  );
});
