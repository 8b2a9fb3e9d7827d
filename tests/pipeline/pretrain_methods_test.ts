/** `pretrain` with a method: each method's default head, the predictor, checkpoints, refusals. */
import * as tf from "@tensorflow/tfjs";
import { fineTune, initBackend, pretrain, splitLabels } from "../../lib/mod.ts";
import { methodHead, SIMCLR_HEAD, WIDE_HEAD } from "../../lib/pipeline/defaults.ts";
import { loadPretrained } from "../../lib/pipeline/pretrain.ts";
import { Checkpoint } from "../../lib/train/checkpoint.ts";
import { headSettingText } from "../../lib/models/heads/head_setting.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { barDataset } from "../train/train_helpers.ts";

const train = barDataset(96, 1);
/** The article's small CNN (fast), no augmentation, one short epoch. */
const QUICK = {
  backbone: { kind: "article" },
  augment: { preset: "none" },
  epochs: 1,
  batchSize: 32,
  maxStepsPerEpoch: 2,
} as const;

Deno.test("each method's default head; SimCLR's stays SimCLR's", () => {
  assertEquals(methodHead("simclr"), { ...SIMCLR_HEAD, hidden: [128] });
  assertEquals(headSettingText(methodHead("byol")), "mlp-bn:128,64");
  assertEquals(headSettingText(methodHead("simsiam")), "mlp-bn:128,64");
  assertEquals(methodHead("vicreg"), { ...WIDE_HEAD, hidden: [256, 256] });
  assertEquals(headSettingText(methodHead("barlow")), "mlp-bn:256,256,256");
});

Deno.test({
  name: "BYOL through pretrain: the projector is the head, fineTune keeps a layer of it, " +
    "the checkpoint records the method and the predictor",
  sanitizeResources: false,
  fn: async () => {
    await initBackend();
    const dir = await Deno.makeTempDir();
    try {
      const before = tf.memory().numTensors;
      const split = splitLabels(train, { labels: 8, seed: 0 });
      const pre = await pretrain(train, {
        ...QUICK,
        indices: split.unlabelled,
        method: "byol",
        checkpointDir: dir,
      });
      assertEquals(pre.method, "byol");
      assertEquals(pre.head.outputs[0].shape, [null, 64], "the projector's z");
      assert(Number.isFinite(pre.history[0].loss));
      const saved = Checkpoint.open(dir).manifest;
      assertEquals(saved.info.method, "byol");
      assertEquals(saved.fingerprint.settings.method, "byol");
      assertEquals(saved.fingerprint.settings.predictor, "64-128-64");
      assertEquals(saved.fingerprint.settings.head, "mlp-bn:128,64");
      const tuned = await fineTune(pre, train, split, {
        head: { layers: 1 },
        steps: 2,
        augment: { preset: "none" },
      });
      tuned.dispose();
      pre.dispose();
      assertEquals(tf.memory().numTensors, before, "tensors alive (the predictor is dropped)");
      const loaded = await loadPretrained(dir);
      assertEquals(loaded?.method, "byol");
      loaded?.dispose();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "Barlow Twins and SimSiam without predictor run; bad methods and predictors are one line",
  sanitizeResources: false,
  fn: async () => {
    await initBackend();
    const barlow = await pretrain(train, { ...QUICK, method: "barlow" });
    assertEquals(barlow.head.outputs[0].shape, [null, 256], "the wide projector");
    barlow.dispose();
    const bare = await pretrain(train, { ...QUICK, method: "simsiam", predictor: false });
    assert(Number.isFinite(bare.history[0].loss));
    bare.dispose();
    const one = async (fn: () => Promise<unknown>, ...parts: string[]) => {
      const err = await assertRejects(fn, ...parts);
      assert(err instanceof RangeError && !err.message.includes("\n"), err.message);
    };
    await one(
      () => pretrain(train, { ...QUICK, method: "moco" as unknown as "simclr" }),
      'pretrain: method must be one of simclr, byol, simsiam, barlow, vicreg, got "moco"',
    );
    await one(
      () => pretrain(train, { ...QUICK, method: "vicreg", predictor: { hidden: 8 } }),
      "vicreg has no predictor",
    );
    await one(
      () => pretrain(train, { ...QUICK, method: "byol", predictor: { hidden: 0 } }),
      "predictor.hidden must be a positive integer, got 0",
    );
  },
});
