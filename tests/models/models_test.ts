import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { articleBackbone } from "../../lib/models/article_cnn.ts";
import {
  articleHead,
  classifierHead,
  projectionHead,
} from "../../lib/models/heads/projection_heads.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

Deno.test("the article's backbone and head have the article's shapes and parameter counts", async () => {
  await initBackend();
  const backbone = articleBackbone();
  const head = articleHead();
  assertEquals(backbone.countParams(), 7120);
  assertEquals(head.countParams(), 1754);
  assertEquals(backbone.outputs[0].shape, [null, 32]);
  // 28 -> 26 -> 13 -> 11 -> 5 -> 3 -> 1
  assertEquals(backbone.layers.map((l) => l.outputShape), [
    [null, 26, 26, 16],
    [null, 13, 13, 16],
    [null, 11, 11, 16],
    [null, 5, 5, 16],
    [null, 3, 3, 32],
    [null, 1, 1, 32],
    [null, 32],
  ]);
  assertEquals(head.outputs[0].shape, [null, 10]);
  backbone.dispose();
  head.dispose();
});

Deno.test("projection heads: none is the identity, linear and MLP have the asked widths", async () => {
  await initBackend();
  const h = tf.randomNormal([4, 32]);
  const none = projectionHead({ kind: "none", inputDim: 32 });
  assertEquals(Array.from(await (none.apply(h) as tf.Tensor).data()), Array.from(await h.data()));
  assertEquals(none.countParams(), 0);
  const linear = projectionHead({ kind: "linear", inputDim: 32, outputDim: 8 });
  assertEquals(linear.countParams(), 32 * 8 + 8);
  const mlp = projectionHead({ kind: "mlp", inputDim: 32, hidden: [64, 48], outputDim: 16 });
  assertEquals(mlp.countParams(), 32 * 64 + 64 + 64 * 48 + 48 + 48 * 16 + 16);
  assertEquals((mlp.apply(h) as tf.Tensor).shape, [4, 16]);
  assertEquals(classifierHead(32, 10).countParams(), 330);
  // deno-lint-ignore no-explicit-any
  assertThrows(() => projectionHead({ kind: "deep" as any, inputDim: 32 }), "unknown kind", "deep");
  assertThrows(() => projectionHead({ kind: "linear", inputDim: 0 }), "inputDim");
  tf.dispose([h]);
});

Deno.test("a seed makes initial weights reproducible; another seed changes them", async () => {
  await initBackend();
  const w = (seed: number) =>
    articleBackbone([28, 28, 1], [16, 16, 32], seed).getWeights()[0].dataSync();
  assertEquals(w(3), w(3));
  assert(w(3).some((v, i) => v !== w(4)[i]), "seeds 3 and 4 gave the same weights");
  const hw = (seed: number) => articleHead(32, 10, seed).getWeights()[0].dataSync();
  assertEquals(hw(1), hw(1));
});
