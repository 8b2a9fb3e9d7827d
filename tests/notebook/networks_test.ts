import { armContext } from "../../lib/experiment/arms.ts";
import { quickRecipe } from "../../lib/experiment/recipe.ts";
import { articleBackbone } from "../../lib/models/article_cnn.ts";
import { modernCnn } from "../../lib/models/modern_cnn.ts";
import { resnetBackbone } from "../../lib/models/resnet.ts";
import {
  armNetwork,
  armRecipeRow,
  layerRows,
  parameterCounts,
} from "../../lib/notebook/networks.ts";
import { assert, assertEquals } from "../assert.ts";
import { barDataset } from "../train/train_helpers.ts";

Deno.test("layerRows: the modern CNN and the article's CNN layer by layer, in words", () => {
  const f = modernCnn({ inputShape: [28, 28, 1], seed: 0 });
  const rows = layerRows(f);
  assertEquals(rows.length, 13);
  assertEquals(rows[0], {
    layer: "block1_conv",
    kind: "conv 3x3, same padding, no bias",
    "output shape": "28×28×16",
    parameters: 144,
  });
  assertEquals(rows.map((r) => r.kind).slice(1, 4), ["batch norm", "ReLU", "max-pool 2x2"]);
  assertEquals(rows.at(-1)!.kind, "global average pooling");
  assertEquals(rows.at(-1)!["output shape"], "32");
  assertEquals(rows.reduce((a, r) => a + r.parameters, 0), f.countParams());
  // Batch norm's moving means and variances count, but gradient descent does not train them.
  assertEquals(parameterCounts(f), { total: 7312, trained: 7184, movingStatistics: 128 });
  f.dispose();

  const a = articleBackbone([28, 28, 1]);
  const article = layerRows(a);
  assertEquals(article[0].kind, "conv 3x3, valid padding + relu");
  assertEquals(article.map((r) => r["output shape"]), [
    "26×26×16",
    "13×13×16",
    "11×11×16",
    "5×5×16",
    "3×3×32",
    "1×1×32",
    "32",
  ]);
  assertEquals(parameterCounts(a), { total: 7120, trained: 7120, movingStatistics: 0 });
  a.dispose();
});

Deno.test("armNetwork and armRecipeRow: what the article's recipe and the strong baseline train", () => {
  const data = { train: barDataset(120, 0), test: barDataset(20, 1) };
  const config = { ...quickRecipe(), labels: 20, validation: 4 };
  const ctx = armContext(config, data, 0);

  const article = armNetwork(ctx, "supervised_article");
  assert(article.backboneText.startsWith("the article's CNN"), article.backboneText);
  assertEquals(article.headText, "MLP 32 → 32 → 16 → 2 (the article's)");
  assertEquals(parameterCounts(article.backbone).total, 7120);
  article.dispose();

  const strong = armNetwork(ctx, "supervised_strong");
  assert(strong.backboneText.startsWith("the modern CNN"), strong.backboneText);
  assertEquals(strong.headText, "dropout 0.3, then linear 32 → 2");
  assertEquals(layerRows(strong.head).map((r) => r.kind), ["dropout 0.3", "dense"]);
  // tfjs's own names of unnamed layers change with every model built: positions instead.
  assertEquals(layerRows(strong.head).map((r) => r.layer), ["layer 1", "layer 2"]);
  assertEquals(parameterCounts(strong.head).total, 32 * 2 + 2);
  strong.dispose();

  // 16 labelled images, batch 64: one step an epoch; the article's quick budget is 100 epochs.
  const a = armRecipeRow(ctx, "supervised_article");
  assertEquals(a.optimiser, "SGD, momentum 0.9");
  assertEquals(a["learning rate"], "0.001, constant");
  assertEquals(a.budget, "100 steps of 64 images (100 epochs)");
  assertEquals(a.augmentation, "none");
  assertEquals(a["model kept"], "the final one");
  const s = armRecipeRow(ctx, "supervised_strong");
  assertEquals(s.optimiser, "AdamW, weight decay 0.0005");
  assertEquals(s["learning rate"], "0.03, cosine to 0"); // the rate chosen on the dev holdout
  assertEquals(s.budget, "150 steps of 64 images");
  assertEquals(s["label smoothing"], "0.1");
  assert(s.augmentation.startsWith("mild affine"), s.augmentation);
});

Deno.test("layerRows: a ResNet block's end is its last batch norm, with the residual and ReLU", () => {
  const f = resnetBackbone({ inputShape: [16, 16, 3], width: 4, depth: 2, seed: 0 });
  const kinds = Object.fromEntries(layerRows(f).map((r) => [r.layer, r.kind]));
  assertEquals(kinds["stage1_block1_conv2_bn"], "batch norm + residual + ReLU");
  assertEquals(kinds["stage2_block1_skip_bn"], "batch norm + residual + ReLU");
  assertEquals(kinds["stage2_block1_conv2_bn"], "batch norm");
  f.dispose();
});
