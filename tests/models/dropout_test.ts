import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { Dropout, dropout } from "../../lib/models/dropout.ts";
import { buildBackbone } from "../../lib/models/backbones.ts";
import { modelFromTransfer, modelToTransfer } from "../../lib/models/model_transfer.ts";
import { tfjsSeed } from "../../lib/rng.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

Deno.test("dropout: a new mask at every training call, the same masks for the same seed", async () => {
  await initBackend();
  const masks = (seed: number) => {
    const layer = dropout({ rate: 0.5, seed });
    const x = tf.ones([4, 64]);
    const out = [0, 1, 2].map(() =>
      Array.from((layer.apply(x, { training: true }) as tf.Tensor).dataSync())
    );
    const inference = Array.from((layer.apply(x) as tf.Tensor).dataSync());
    x.dispose();
    return { out, inference };
  };
  const a = masks(3);
  const b = masks(3);
  assertEquals(a.out, b.out, "reproducible by seed");
  assert(a.out[0].some((v, i) => v !== a.out[1][i]), "each call draws a new mask (tfjs's repeats)");
  for (const m of a.out) {
    assert(m.every((v) => v === 0 || v === 2), "kept values are scaled by 1 / (1 - rate)");
    const dropped = m.filter((v) => v === 0).length / m.length;
    assert(dropped > 0.3 && dropped < 0.7, `about half dropped: ${dropped}`);
  }
  assert(a.inference.every((v) => v === 1), "inference passes values through");
  assertThrows(() => dropout({ rate: 1 }), "rate must be in [0, 1)");
  const layer = new Dropout({ rate: 0.2, seed: 1 });
  assertEquals(layer.getConfig().rate, 0.2);
});

Deno.test("seeds: a model built from seed 0 is the same every time (tfjs reads seed 0 as none)", async () => {
  await initBackend();
  assertEquals(tfjsSeed(0, 0), 1);
  const weights = () => {
    const f = buildBackbone({ kind: "cnn" }, [28, 28, 1], 0);
    const w = Array.from(f.getWeights()[0].dataSync());
    f.dispose();
    return w;
  };
  assertEquals(weights(), weights());
  const g = buildBackbone({ kind: "article" }, [28, 28, 1], 0);
  const h = buildBackbone({ kind: "article" }, [28, 28, 1], 0);
  assertEquals(Array.from(g.getWeights()[0].dataSync()), Array.from(h.getWeights()[0].dataSync()));
  const copy = await modelFromTransfer(modelToTransfer(g));
  assertEquals(
    Array.from(copy.getWeights()[0].dataSync()),
    Array.from(g.getWeights()[0].dataSync()),
  );
  for (const m of [g, h, copy]) m.dispose();
});
