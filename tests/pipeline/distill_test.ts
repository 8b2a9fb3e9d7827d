/** Distillation: soft labels at a temperature, and a student that learns them. */
import * as tf from "@tensorflow/tfjs";
import { evaluate, fineTune, initBackend, pretrain, splitLabels } from "../../lib/mod.ts";
import { distill, softmaxRows } from "../../lib/pipeline/distill.ts";
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertRejects,
  assertThrows,
} from "../assert.ts";
import { barDataset } from "../train/train_helpers.ts";

const bars = barDataset;

Deno.test("softmaxRows: rows sum to 1; a higher temperature flattens them", () => {
  const logits = new Float32Array([2, 0, 1000, 1000]);
  const t1 = softmaxRows(logits, 2, 1);
  assertAlmostEquals(t1[0], Math.exp(2) / (Math.exp(2) + 1), 1e-6);
  assertAlmostEquals(t1[2], 0.5, 1e-6, "stable for large logits");
  const t2 = softmaxRows(logits, 2, 2);
  assertAlmostEquals(t2[0], Math.E / (Math.E + 1), 1e-6);
  assert(t2[0] < t1[0], "τ 2 is softer than τ 1");
  assertAlmostEquals(t2[0] + t2[1], 1, 1e-6);
  assertThrows(() => softmaxRows(logits, 2, 0), "temperature");
});

Deno.test({
  name:
    "the student learns the teacher's soft labels on unlabelled images (even a wrong teacher's)",
  sanitizeResources: false,
  fn: async () => {
    await initBackend();
    const before = tf.memory().numTensors;
    const train = bars(240, 1);
    const test = bars(100, 2);
    const split = splitLabels(train, { labels: 8, validation: 2, seed: 0 });
    const pre = await pretrain(train, {
      indices: split.unlabelled,
      augment: { preset: "none" },
      epochs: 1,
      batchSize: 64,
      maxStepsPerEpoch: 2,
    });
    const teacher = await fineTune(pre, train, split, { epochs: 30 });
    assert((await evaluate(teacher, test)).accuracy > 0.9, "a good teacher");
    // A teacher that swaps the two classes: its head's outputs go through a swap.
    const swapWeights = tf.tensor2d([[0, 1], [1, 0]]);
    const swap = tf.layers.dense({
      units: 2,
      useBias: false,
      inputShape: [2],
      weights: [swapWeights],
    });
    const wrong = {
      backbone: teacher.backbone,
      head: tf.sequential({ layers: [teacher.head, swap] }),
    };
    for (
      const [who, t, expectGood] of [["right", teacher, true], ["swapped", wrong, false]] as const
    ) {
      // labelWeight 0: only the soft labels teach; the 6 true labels do not count.
      const student = await distill(t, pre, train, split, {
        mode: "soft",
        unlabelled: split.unlabelled,
        labelWeight: 0,
        temperature: 2,
        unlabelledBatch: 64,
        steps: 60,
        select: "final",
      });
      assertEquals(student.unlabelledUsed, split.unlabelled.length);
      assert(
        student.agreement > 0.9,
        `${who}: the student agrees with its teacher: ${student.agreement}`,
      );
      const acc = (await evaluate(student, test)).accuracy;
      assert(expectGood ? acc > 0.9 : acc < 0.1, `${who} teacher: student test accuracy ${acc}`);
      student.dispose();
    }
    swap.dispose();
    swapWeights.dispose();
    teacher.dispose();
    pre.dispose();
    assertEquals(tf.memory().numTensors, before, "no tensor leaks");
  },
});

Deno.test({
  name: "self-training: the student starts as its teacher and learns its own pseudo-labels",
  sanitizeResources: false,
  fn: async () => {
    await initBackend();
    const before = tf.memory().numTensors;
    const train = bars(240, 1);
    const test = bars(100, 2);
    const split = splitLabels(train, { labels: 8, validation: 2, seed: 0 });
    // The article's CNN (flatten keeps where the bar is; global average pooling would not).
    const teacher = await fineTune(null, train, split, { steps: 100 });
    const taught = (await evaluate(teacher, test)).accuracy;
    assert(taught > 0.9, `a good teacher: ${taught}`);
    // No training at all: the student is its teacher, and agrees with it everywhere.
    const copy = await distill(teacher, null, train, split, {
      unlabelled: split.unlabelled,
      epochs: 0,
    });
    assertEquals(copy.agreement, 1);
    assertEquals(copy.result.history.length, 0);
    copy.dispose();
    const student = await distill(teacher, null, train, split, {
      unlabelled: split.unlabelled,
      threshold: 0.6,
      unlabelledBatch: 32,
      steps: 30,
      emaMomentum: 0.9,
      select: "final",
    });
    const masks = student.result.history.map((e) => e.maskRate!);
    assert(masks.every((m) => m >= 0 && m <= 1), `mask rates ${masks}`);
    assert(masks.at(-1)! > 0, "confident pseudo-labels were used");
    const learnt = (await evaluate(student, test)).accuracy;
    assert(learnt > 0.9, `the student still separates the bars: ${learnt}`);
    await assertRejects(
      () => distill(teacher, null, train, split, { unlabelled: split.unlabelled, mode: "soft" }),
      "pre-trained encoder",
    );
    student.dispose();
    teacher.dispose();
    assertEquals(tf.memory().numTensors, before, "no tensor leaks");
  },
});

Deno.test("fineTune warns in one line when an epoch budget is a handful of steps", async () => {
  await initBackend();
  const data = barDataset(60, 1);
  const split = splitLabels(data, { labels: 20, seed: 0 });
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => void warnings.push(m);
  try {
    const few = await fineTune(null, data, split, { epochs: 2, augment: { preset: "none" } });
    few.dispose();
    const many = await fineTune(null, data, split, { steps: 2, augment: { preset: "none" } });
    many.dispose();
  } finally {
    console.warn = warn;
  }
  assertEquals(warnings.length, 1, warnings.join("\n"));
  assertEquals(warnings[0].includes("is only 2 optimiser steps"), true, warnings[0]);
});
