import * as tf from "@tensorflow/tfjs";
import {
  describeBackbone,
  describeHead,
  notebookBanner,
  notebookHead,
  notebookRecipe,
  notebookStudy,
  setupNotebook,
  viewSimilarities,
} from "../../lib/notebook/setup.ts";
import { fullRecipe, quickRecipe } from "../../lib/experiment/recipe.ts";
import { fullAblation, quickAblation } from "../../lib/study/recipe.ts";
import { ARTICLE_HEAD } from "../../lib/models/heads/head_setting.ts";
import { buildBackbone } from "../../lib/models/backbones.ts";
import { projectionHead } from "../../lib/models/heads/projection_heads.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";
import { barDataset } from "../train/train_helpers.ts";

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
  assertEquals(r.head, quickRecipe().head); // the recipe's head (SimCLR's) by default
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

Deno.test("the configuration's head: a setting or its text form", () => {
  const at = (head: Parameters<typeof notebookHead>[0]) =>
    notebookRecipe({ dataset: "mnist", labels: 200, seed: 0, quick: true, head }).head;
  assertEquals(at("article"), { kind: "mlp", hidden: [32, 16] });
  assertEquals(at("none"), { kind: "none" });
  assertEquals(at("mlp:64,32"), { kind: "mlp", hidden: [64], outputDim: 32 });
  assertEquals(at({ kind: "linear", outputDim: 16 }), { kind: "linear", outputDim: 16 });
  // The setting is copied: changing the cell's object later does not change the recipe.
  const mine = { kind: "mlp" as const, hidden: [8] };
  const r = notebookRecipe({ dataset: "mnist", labels: 200, seed: 0, quick: true, head: mine });
  mine.hidden.push(4);
  assertEquals(r.head.hidden, [8]);
  assertThrows(() => at("mlp:0"), 'head "mlp:0"');
  assertThrows(() => at({ kind: "conv" } as never), "head kind must be");
  assertEquals(notebookHead(undefined), undefined);
});

Deno.test("the banner's words for backbones and heads", () => {
  assertEquals(
    describeBackbone({ kind: "article" }),
    "the article's CNN (conv channels 16, 16, 32)",
  );
  assertEquals(
    describeBackbone({ kind: "article", channels: [32, 64, 128] }),
    "a CNN (conv channels 32, 64, 128)",
  );
  assertEquals(
    describeBackbone({ kind: "resnet", width: 16, depth: 3 }),
    "a small ResNet (width 16, 3 stages, batch norm)",
  );
  assertEquals(
    describeBackbone({ kind: "cnn" }),
    "the modern CNN (conv channels 16, 16, 32, batch norm, global average pooling)",
  );
  assertEquals(
    describeHead({ kind: "mlp", hidden: [128], batchNorm: true }, 32, 10),
    "MLP 32 → 128 (batch norm) → 10 (SimCLR's)",
  );
  assertEquals(describeHead(ARTICLE_HEAD, 32, 10), "MLP 32 → 32 → 16 → 10 (the article's)");
  assertEquals(
    describeHead({ kind: "mlp", hidden: [64], outputDim: 32 }, 32, 10),
    "MLP 32 → 64 → 32",
  );
  assertEquals(describeHead({ kind: "linear" }, 32, 10), "linear 32 → 10");
  assertEquals(describeHead({ kind: "none" }, 32, 10), "none (z = h, 32 numbers)");
});

Deno.test("the study of a notebook's configuration: quick or full, its labels and seeds", () => {
  const quick = notebookStudy({ dataset: "mnist", labels: 100, seed: 5, quick: true });
  assertEquals(quick.quick, true);
  assertEquals(quick.labels, 100);
  assertEquals(quick.seeds, [5, 6]);
  assertEquals(quick.pretrain, quickAblation().pretrain);
  const full = notebookStudy({ dataset: "mnist", labels: 200, seed: 0, quick: false });
  assertEquals(full.seeds, [0, 1, 2]);
  assertEquals(full.pretrain, fullAblation().pretrain);
  assertEquals(full.parts, ["heads", "temperature", "labels"]);
  assertEquals(full.pretrain, fullRecipe().pretrain, "the main recipe's budget");
  const some = notebookStudy(
    { dataset: "mnist", labels: 200, seed: 0, quick: false },
    undefined,
    "labels, heads",
  );
  assertEquals(some.parts, ["heads", "labels"]);
  assertThrows(
    () => notebookStudy({ dataset: "mnist", labels: 0, seed: 0, quick: true }),
    "labels must be",
  );
  assertThrows(
    () => notebookStudy({ dataset: "mnist", labels: 200, seed: 0, quick: true }, undefined, "heds"),
    'configuration: parts: unknown part "heds"',
  );
});

const bars = barDataset;

Deno.test({
  name: "setupNotebook: recipe, context and banner; the similarities of two views' h and z",
  sanitizeResources: false,
  fn: async () => {
    const data = { train: bars(120, 1), test: bars(40, 2) };
    const { backend, recipe, ctx, banner } = await setupNotebook(
      { dataset: "mnist", labels: 20, seed: 1, quick: true, head: "mlp:16,8" },
      { data, show: false },
    );
    assertEquals(recipe.head, { kind: "mlp", hidden: [16], outputDim: 8 });
    assertEquals(ctx.seed, 1);
    assertEquals([ctx.split.labelled.length, ctx.split.validation.length], [16, 4]);
    assertEquals(banner, notebookBanner(ctx, backend));
    for (
      const part of [
        "dataset **mnist**: 120 training and 40 test images of 28×28×1, 2 classes",
        "**20 labels** (16 to train, 4 to validate; 100 unlabelled images for pre-training)",
        "seed **1**",
        "**quick** mode",
        `tfjs backend **${backend}**`,
        "backbone f: **the modern CNN (conv channels 16, 16, 32, batch norm, global average pooling)**, h of 32 numbers",
        "projection head g: **MLP 32 → 16 → 8**",
      ]
    ) assert(banner.includes(part), `${part} in ${banner}`);

    const f = buildBackbone(recipe.backbone, ctx.shape, 0);
    const g = projectionHead({ kind: "mlp", inputDim: 32, hidden: [16], outputDim: 8, seed: 0 });
    const before = tf.memory().numTensors;
    const s = viewSimilarities(ctx, f, g, { count: 4 });
    assertEquals(s.names, ["1a", "2a", "3a", "4a", "1b", "2b", "3b", "4b"]);
    assertEquals([s.h.length, s.h[0].length, s.z.length], [8, 8, 8]);
    assertEquals([s.hDim, s.zDim], [32, 8]);
    for (let i = 0; i < 8; i++) {
      assertAlmostEquals(s.z[i][i], 1, 1e-4);
      for (let j = 0; j < 8; j++) assertAlmostEquals(s.h[i][j], s.h[j][i], 1e-5);
    }
    const twins = [0, 1, 2, 3].map((i) => s.z[i][i + 4]);
    assertAlmostEquals(s.twins.z, twins.reduce((a, b) => a + b, 0) / 4, 1e-6);
    assert(s.others.h <= 1 && s.others.h >= -1, `others ${s.others.h}`);
    // The same seed gives the same views: an untrained and a trained model see the same images.
    assertEquals(viewSimilarities(ctx, f, g, { count: 4 }).h, s.h);
    assertEquals(tf.memory().numTensors, before, "no tensor leaked");
    f.dispose();
    g.dispose();
  },
});
