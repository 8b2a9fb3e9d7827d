/**
 * The pre-training monitor on a real run (the full tier: half a minute of training): the kNN
 * accuracy of h on validation labels and the contrastive accuracy rise as pre-training goes.
 */
import { initBackend } from "../../lib/backend.ts";
import { loadMnist } from "../../lib/data/mnist.ts";
import { pretrain, splitLabels } from "../../lib/mod.ts";
import { assert } from "../assert.ts";

Deno.test({
  name:
    "the kNN metric of h on validation labels rises as pre-training goes (MNIST, 6 short epochs)",
  sanitizeResources: false,
  fn: async () => {
    await initBackend();
    const { train } = await loadMnist();
    const split = splitLabels(train, {
      labels: 300,
      validation: 200,
      seed: 0,
      maxUnlabelled: 3072,
    });
    const monitor = {
      labels: train.labels,
      labelled: split.labelled,
      validation: split.validation,
      k: 5,
    };
    const pre = await pretrain(train, {
      indices: split.unlabelled,
      backbone: { kind: "cnn" },
      head: { kind: "mlp", hidden: [128], batchNorm: true },
      augment: { preset: "stroke" },
      epochs: 6,
      batchSize: 256,
      learningRate: 3e-3,
      earlyStop: undefined,
      monitor,
    });
    const knn = pre.history.map((e) => e.knnAccuracy!);
    const contrastive = pre.history.map((e) => e.contrastiveAccuracy!);
    pre.dispose();
    // The modern CNN, SimCLR's head and the stroke views (the recipe's), at a higher rate.
    assert(knn.at(-1)! > knn[0] + 0.05, `kNN rises: ${knn}`);
    assert(contrastive.at(-1)! > contrastive[0], `contrastive accuracy rises: ${contrastive}`);
  },
});
