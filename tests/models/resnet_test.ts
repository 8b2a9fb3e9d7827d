import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend.ts";
import { resnetBackbone, type ResNetOptions } from "../../lib/models/resnet.ts";
import { backboneOutputDim, buildBackbone } from "../../lib/models/backbones.ts";
import { articleHead } from "../../lib/models/heads/projection_heads.ts";
import { ntXentLoss } from "../../lib/loss/ntxent.ts";
import { loadModel, saveModel } from "../../lib/train/checkpoint.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { randomArray, relativeError } from "../numeric.ts";

Deno.test("resnet: output width, shapes through the stages, parameters, config errors", async () => {
  await initBackend();
  const f = resnetBackbone({ inputShape: [32, 32, 3], seed: 0, norm: "none" });
  assertEquals(f.outputs[0].shape, [null, 64]);
  assertEquals(backboneOutputDim(f), 64);
  const outputsOf = (name: string) => f.getLayer(name).outputShape;
  assertEquals(outputsOf("stem"), [null, 32, 32, 16]);
  assertEquals(outputsOf("stage2_block1_relu"), [null, 16, 16, 32]);
  assertEquals(outputsOf("stage3_block1_relu"), [null, 8, 8, 64]);
  // stem 3*9*16+16; stage 1: 2 x (16*9*16+16); stage 2: 16*9*32+32, 32*9*32+32, skip 16*32+32;
  // stage 3: 32*9*64+64, 64*9*64+64, skip 32*64+64
  assertEquals(
    f.countParams(),
    448 + 2 * 2320 + (4640 + 9248 + 544) + (18496 + 36928 + 2112),
  );
  const x = tf.randomUniform([2, 32, 32, 3]);
  const h = f.apply(x) as tf.Tensor;
  assertEquals(h.shape, [2, 64]);
  tf.dispose([x, h]);
  f.dispose();
  // With batch normalisation (the default): no conv biases, 4 numbers a channel per BN layer
  // (gamma, beta and the two moving statistics), one BN after every convolution.
  const bn = resnetBackbone({ inputShape: [32, 32, 3], seed: 0 });
  const convs = (16 + 2 * 16) + (32 + 32 + 32) + (64 + 64 + 64);
  assertEquals(
    bn.countParams(),
    448 + 2 * 2320 + (4640 + 9248 + 544) + (18496 + 36928 + 2112) - convs + 4 * convs,
  );
  assertEquals(bn.layers.filter((l) => l.getClassName() === "SslBatchNorm").length, 9);
  bn.dispose();

  const strided = resnetBackbone({
    inputShape: [20, 24, 1],
    width: 8,
    depth: 2,
    blocksPerStage: 2,
    downsample: "stride",
  });
  assertEquals(strided.outputs[0].shape, [null, 16]);
  // The block's end is its last batch norm's layer (BN + add + ReLU in one: `residual`).
  assertEquals(strided.getLayer("stage2_block2_conv2_bn").outputShape, [null, 10, 12, 16]);
  strided.dispose();

  const bad: [Partial<ResNetOptions>, string][] = [
    [{ width: 0 }, "width"],
    [{ depth: 1.5 }, "depth"],
    [{ blocksPerStage: -1 }, "blocksPerStage"],
    [{ inputShape: [4, 4, 3], depth: 4 }, "too small"],
    // deno-lint-ignore no-explicit-any
    [{ downsample: "avg" as any }, "downsample"],
  ];
  for (const [o, part] of bad) {
    assertThrows(() => resnetBackbone({ inputShape: [32, 32, 3], ...o }), part);
  }
});

Deno.test("buildBackbone builds the resnet by configuration; same seed, same weights", async () => {
  await initBackend();
  const a = buildBackbone({ kind: "resnet", width: 8, depth: 2 }, [16, 16, 3], 5);
  const b = buildBackbone({ kind: "resnet", width: 8, depth: 2 }, [16, 16, 3], 5);
  assertEquals(backboneOutputDim(a), 16);
  const wa = a.getWeights().map((w) => Array.from(w.dataSync()));
  const wb = b.getWeights().map((w) => Array.from(w.dataSync()));
  assertEquals(wa, wb);
  // The last BN of every residual branch starts with gamma 0: blocks start as the identity.
  const gamma = a.getLayer("stage1_block1_conv2_bn").getWeights()[0];
  assertEquals(Math.max(...Array.from(gamma.dataSync()).map(Math.abs)), 0);
  // Without normalisation, the last convolution of every branch starts at zero instead.
  const plain = buildBackbone({ kind: "resnet", width: 8, depth: 2, norm: "none" }, [16, 16, 3], 5);
  const conv2 = plain.getLayer("stage1_block1_conv2").getWeights()[0];
  assertEquals(Math.max(...Array.from(conv2.dataSync()).map(Math.abs)), 0);
  plain.dispose();
  a.dispose();
  b.dispose();
  // deno-lint-ignore no-explicit-any
  assertThrows(() => buildBackbone({ kind: "vit" as any }, [16, 16, 3], 0), "unknown backbone");
});

Deno.test("a resnet checkpoint saved and loaded gives the same features", async () => {
  await initBackend();
  const f = resnetBackbone({ inputShape: [16, 16, 3], width: 8, depth: 2, seed: 1 });
  // Non-zero weights everywhere, so every layer matters.
  f.setWeights(f.getWeights().map((w, i) => tf.tensor(randomArray(w.size, 50 + i), w.shape)));
  const dir = await Deno.makeTempDir();
  try {
    await saveModel(f, dir);
    const g = await loadModel(dir);
    const x = tf.tensor4d(randomArray(2 * 16 * 16 * 3, 3), [2, 16, 16, 3]);
    const [hf, hg] = [f.apply(x) as tf.Tensor, g.apply(x) as tf.Tensor];
    assertEquals(Array.from(await hg.data()), Array.from(await hf.data()));
    tf.dispose([x, hf, hg]);
    g.dispose();
  } finally {
    f.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

/** One SGD step of resnet + article head under NT-Xent from fixed weights: [loss, ...new weights]. */
function sslStep(
  options: ResNetOptions,
  weights: Float32Array[],
  views: Float32Array,
  n: number,
): tf.Tensor[] {
  const backbone = resnetBackbone(options);
  const head = articleHead(backboneOutputDim(backbone), 10);
  const vars = [...backbone.getWeights(), ...head.getWeights()];
  const nb = backbone.getWeights().length;
  backbone.setWeights(weights.slice(0, nb).map((w, i) => tf.tensor(w, vars[i].shape)));
  head.setWeights(weights.slice(nb).map((w, i) => tf.tensor(w, vars[nb + i].shape)));
  const x = tf.tensor4d(views, [2 * n, ...options.inputShape]);
  const { value, grads } = tf.variableGrads(() => {
    const z = head.apply(backbone.apply(x)) as tf.Tensor2D;
    const [a, b] = tf.split(z, 2, 0) as tf.Tensor2D[];
    return ntXentLoss(a, b, 0.5);
  });
  tf.train.sgd(0.1).applyGradients(grads);
  const out = [
    value,
    ...backbone.getWeights().map((w) => w.clone()),
    ...head.getWeights().map((w) => w.clone()),
  ];
  backbone.dispose();
  head.dispose();
  return out;
}

for (const downsample of ["pool", "stride"] as const) {
  Deno.test(`one SSL training step of the resnet (${downsample} downsampling) on wasm matches cpu`, async () => {
    await initBackend();
    const options: ResNetOptions = {
      inputShape: [12, 12, 3],
      width: 4,
      depth: 2,
      blocksPerStage: 1,
      downsample,
      norm: "none", // the convolutions' kernels; batch normalisation has its own tests
    };
    const n = 4;
    const probe = resnetBackbone(options);
    const probeHead = articleHead(backboneOutputDim(probe), 10);
    const shapes = [...probe.getWeights(), ...probeHead.getWeights()].map((w) => w.shape);
    probe.dispose();
    probeHead.dispose();
    const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const weights = shapes.map((s, i) => randomArray(size(s), 20 + i).map((v) => v * 0.4));
    const views = randomArray(2 * n * 12 * 12 * 3, 7).map((v) => (v + 1) / 2);
    const run = async (backend: "cpu" | "wasm") => {
      await tf.setBackend(backend);
      const outs = sslStep(options, weights, views, n);
      const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
      tf.dispose(outs);
      return values;
    };
    const ref = await run("cpu");
    const got = await run("wasm");
    await initBackend();
    assert(Number.isFinite(ref[0][0]), "loss is finite");
    for (let i = 0; i < ref.length; i++) {
      // Compare the change the step made: the gradients, not the weights.
      const before = i === 0 ? new Float32Array(1) : weights[i - 1];
      const e = relativeError(
        ref[i].map((v, j) => v - before[j]),
        got[i].map((v, j) => v - before[j]),
      );
      assert(e < 1e-3, `${i === 0 ? "loss" : `weight ${i - 1}`}: relative error ${e}`);
    }
  });
}
