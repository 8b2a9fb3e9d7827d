import * as tf from "@tensorflow/tfjs";
import { autoWorkers, initBackend, MAX_AUTO_WORKERS, trainingWorkers } from "../lib/backend.ts";
import { articleBackbone } from "../lib/models/article_cnn.ts";
import { articleHead } from "../lib/models/heads/projection_heads.ts";
import { ntXentLoss } from "../lib/loss/ntxent.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { randomArray, relativeError } from "./numeric.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  conv2dBackpropFilterWasm,
  type FilterGradPath,
  filterGradPath,
} from "../lib/kernels/conv2d_backprop_filter_wasm.ts";
import { accumulateAtB, fusedAvailable } from "../lib/kernels/simd_at_b_wasm.ts";
import { reluGrad } from "../lib/kernels/relu_grad_wasm.ts";
import { singleChannelConv2d } from "../lib/kernels/conv2d_single_channel_wasm.ts";

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Runs `f` on a backend and returns its outputs as plain arrays. */
async function on(backend: "cpu" | "wasm", f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(f);
  const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(outs);
  return values;
}

type Pad = "valid" | "same";
interface ConvCase {
  x: [number, number, number, number];
  f: [number, number, number, number];
  stride: number | [number, number];
  pad: Pad;
}

const convCases: ConvCase[] = [
  { x: [1, 5, 5, 1], f: [3, 3, 1, 2], stride: 1, pad: "valid" },
  { x: [2, 7, 7, 3], f: [3, 3, 3, 4], stride: 1, pad: "same" },
  { x: [3, 8, 8, 2], f: [3, 3, 2, 5], stride: 2, pad: "valid" },
  { x: [2, 8, 8, 3], f: [3, 3, 3, 4], stride: 2, pad: "same" },
  { x: [3, 9, 8, 2], f: [2, 3, 2, 5], stride: 3, pad: "same" },
  { x: [2, 10, 9, 3], f: [4, 2, 3, 2], stride: [2, 3], pad: "valid" },
  { x: [4, 9, 9, 3], f: [1, 1, 3, 6], stride: 2, pad: "same" },
  { x: [5, 6, 7, 4], f: [5, 5, 4, 3], stride: 1, pad: "same" },
  { x: [2, 28, 28, 1], f: [3, 3, 1, 16], stride: 1, pad: "valid" },
  // The filter gradient's patches path (output channels a multiple of 4; Ci 1 and 3).
  { x: [2, 9, 9, 1], f: [3, 3, 1, 4], stride: 1, pad: "same" },
  { x: [3, 10, 11, 1], f: [3, 3, 1, 8], stride: 2, pad: "valid" },
  { x: [2, 11, 10, 1], f: [3, 3, 1, 16], stride: 2, pad: "same" },
  { x: [2, 8, 9, 3], f: [3, 3, 3, 20], stride: 1, pad: "valid" },
  { x: [2, 9, 9, 3], f: [3, 3, 3, 16], stride: 1, pad: "same" },
  { x: [3, 11, 11, 3], f: [3, 3, 3, 12], stride: 2, pad: "same" },
  { x: [2, 10, 9, 3], f: [4, 2, 3, 8], stride: [2, 3], pad: "valid" },
  { x: [2, 7, 8, 3], f: [2, 3, 3, 4], stride: 3, pad: "same" },
  { x: [2, 9, 9, 16], f: [3, 3, 16, 32], stride: 2, pad: "same" },
  { x: [2, 8, 8, 8], f: [1, 1, 8, 16], stride: 2, pad: "same" },
  { x: [16, 28, 28, 1], f: [3, 3, 1, 16], stride: 1, pad: "valid" }, // the article's layer 1
];

Deno.test("initBackend selects wasm by default and cpu on request; rejects unknown names", async () => {
  assertEquals(await initBackend("cpu"), "cpu");
  assertEquals(await initBackend(), "wasm");
  // deno-lint-ignore no-explicit-any
  await assertRejects(() => initBackend("webgl" as any), "unknown backend", "webgl");
});

Deno.test("tensors work before initBackend (on cpu), whatever imported the wasm backend", async () => {
  // A fresh process: importing lib/backend.ts (which imports tfjs-backend-wasm) must not leave
  // an unstarted wasm as tfjs's default, which made the next tensor throw.
  const script = [
    `import * as tf from "@tensorflow/tfjs";`,
    `import { initBackend } from ${
      JSON.stringify(new URL("../lib/backend.ts", import.meta.url).href)
    };`,
    `const before = [...tf.ones([2]).add(1).dataSync(), tf.getBackend()];`,
    `const after = [await initBackend(), tf.getBackend(), ...tf.ones([2]).add(2).dataSync()];`,
    `console.log(JSON.stringify({ before, after }));`,
  ].join("\n");
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    cwd: new URL("..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert(out.success, `subprocess failed: ${stderr}`);
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) =>
    l.startsWith("{")
  ).at(-1);
  assertEquals(JSON.parse(line ?? "null"), {
    before: [2, 2, "cpu"],
    after: ["wasm", "wasm", 3, 3],
  });
});

for (const c of convCases) {
  const label = `x[${c.x}] f[${c.f}] stride ${c.stride} ${c.pad}`;
  Deno.test(`conv2d forward and gradients on wasm match cpu: ${label}`, async () => {
    await initBackend();
    const xv = randomArray(size(c.x), 1);
    const fv = randomArray(size(c.f), 2);
    const run = () => {
      const x = tf.tensor4d(xv, c.x);
      const f = tf.tensor4d(fv, c.f);
      const y = tf.conv2d(x, f, c.stride, c.pad);
      const r = tf.tensor(randomArray(y.size, 3), y.shape); // dy = r
      const loss = (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), r));
      const [dx, df] = tf.grads(loss)([x, f]);
      return [y, dx, df];
    };
    const ref = await on("cpu", run);
    const got = await on("wasm", run);
    for (const [i, name] of ["forward", "input gradient", "filter gradient"].entries()) {
      const e = relativeError(ref[i], got[i]);
      assert(e < 1e-4, `${label}: ${name} relative error ${e}`);
    }
  });
}

for (
  const [shape, pool, stride, pad, ties] of [
    [[2, 6, 6, 3], 2, 2, "valid"],
    [[2, 7, 5, 4], 2, 2, "valid"], // odd sizes: trailing rows get no gradient
    [[3, 7, 7, 2], 3, 2, "same"],
    [[2, 6, 6, 3], 3, 1, "valid"], // overlapping windows accumulate
    [[3, 8, 8, 4], 2, 2, "valid", true], // many ties: the first maximum must win
    [[2, 7, 7, 3], 3, 2, "same", true],
    // c % 4 === 0 takes the SIMD kernel: odd sizes, ties, several vectors of channels.
    [[2, 9, 7, 16], 2, 2, "valid", true],
    [[3, 6, 10, 8], 2, 2, "valid"],
  ] as [number[], number, number, Pad, boolean?][]
) {
  Deno.test(`max-pool gradient on wasm matches cpu: [${shape}] pool ${pool} stride ${stride} ${pad}${ties ? " with ties" : ""}`, async () => {
    await initBackend();
    // With ties, values are rounded to halves, as ReLU outputs tie at 0.
    const xv = randomArray(size(shape), 4).map((v) => ties ? Math.round(v * 2) / 2 : v);
    const run = () => {
      const x = tf.tensor4d(xv, shape as [number, number, number, number]);
      const y = tf.maxPool(x, pool, stride, pad);
      const r = tf.tensor(randomArray(y.size, 5), y.shape);
      return [
        tf.grad((a: tf.Tensor) =>
          tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, pool, stride, pad), r))
        )(x),
      ];
    };
    const e = relativeError((await on("cpu", run))[0], (await on("wasm", run))[0]);
    assert(e < 1e-6, `relative error ${e}`);
  });
}

Deno.test("sum over leading axes (bias gradients) matches cpu, with and without keepDims", async () => {
  await initBackend();
  const v = randomArray(4 * 5 * 6 * 7, 6);
  const run = () => {
    const x = tf.tensor4d(v, [4, 5, 6, 7]);
    return [tf.sum(x, [0, 1, 2]), tf.sum(x, [2, 0, 1], true), tf.sum(x, 3), tf.sum(x)];
  };
  const ref = await on("cpu", run);
  const got = await on("wasm", run);
  for (let i = 0; i < ref.length; i++) assert(relativeError(ref[i], got[i]) < 1e-5, `case ${i}`);
});

Deno.test("transposed matrix products on wasm match cpu: 2-D and batched, every transpose, without leaks", async () => {
  await initBackend();
  const a = randomArray(3 * 7 * 5, 31);
  const b = randomArray(3 * 5 * 6, 32);
  const run = () => {
    const products: tf.Tensor[] = [];
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      const a2 = tf.tensor2d(a.subarray(0, 35), ta ? [5, 7] : [7, 5]);
      const b2 = tf.tensor2d(b.subarray(0, 30), tb ? [6, 5] : [5, 6]);
      products.push(tf.matMul(a2, b2, ta, tb));
      const a3 = tf.tensor3d(a, ta ? [3, 5, 7] : [3, 7, 5]);
      const b3 = tf.tensor3d(b, tb ? [3, 6, 5] : [3, 5, 6]);
      products.push(tf.matMul(a3, b3, ta, tb));
    }
    // A dense layer's gradients are transposed products: dx = dy·Wᵀ, dW = xᵀ·dy.
    const x = tf.tensor2d(a.subarray(0, 35), [7, 5]);
    const w = tf.tensor2d(b.subarray(0, 30), [5, 6]);
    const [dx, dw] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p, q))))(
      [x, w],
    );
    return [...products, dx, dw];
  };
  const ref = await on("cpu", run);
  const before = tf.memory().numTensors;
  const got = await on("wasm", run);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
  // An empty inner dimension gives zeros (XNNPACK would reject it: the original kernel runs).
  const [empty] = await on("wasm", () => [tf.matMul(tf.zeros([0, 3]), tf.zeros([0, 4]), true)]);
  assertEquals(Array.from(empty), new Array(12).fill(0));
  for (let i = 0; i < ref.length; i++) {
    assert(relativeError(ref[i], got[i]) < 1e-5, `case ${i}: ${relativeError(ref[i], got[i])}`);
  }
});

Deno.test('"auto" workers: one per core, at least 1, at most MAX_AUTO_WORKERS; 1 on no report', async () => {
  await initBackend();
  assertEquals(autoWorkers(4), 4);
  assertEquals(autoWorkers(1), 1);
  assertEquals(autoWorkers(64), MAX_AUTO_WORKERS);
  assertEquals(autoWorkers(0), 1);
  assertEquals(autoWorkers(Number.NaN), 1);
  assertEquals(autoWorkers(), Math.min(navigator.hardwareConcurrency, MAX_AUTO_WORKERS));
  assertEquals(trainingWorkers("auto"), autoWorkers());
  assertEquals(trainingWorkers(3), 3);
});

Deno.test("SIMD bias add, bias gradient and ReLU gradient on wasm match cpu (tails, NaN, fallbacks)", async () => {
  await initBackend();
  const xv = randomArray(5 * 7 * 9 * 8, 41);
  const bv = randomArray(8, 42);
  const run = () => {
    const x = tf.tensor4d(xv, [5, 7, 9, 8]);
    const b = tf.tensor1d(bv);
    const odd = tf.tensor2d(xv.subarray(0, 21), [7, 3]); // 3 channels: the original kernels
    return [
      tf.add(x, b),
      tf.add(b, x), // the bias first
      tf.add(x, tf.reshape(b, [1, 1, 1, 8])),
      tf.add(odd, tf.tensor1d([1, 2, 3])),
      tf.sum(x, [0, 1, 2]), // 315 rows: two SIMD blocks of 256
      tf.sum(tf.reshape(x, [-1, 8]), 0, true),
      // ReLU's gradient on every length, through the tape: 2520 (4 | n) and 21 (a tail of 1).
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), tf.sin(t))))(x),
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), tf.cos(t))))(odd),
    ];
  };
  const ref = await on("cpu", run);
  const before = tf.memory().numTensors;
  const got = await on("wasm", run);
  assertEquals(tf.memory().numTensors, before, "tensors leaked");
  for (let i = 0; i < ref.length; i++) {
    assert(relativeError(ref[i], got[i]) < 1e-5, `case ${i}: ${relativeError(ref[i], got[i])}`);
  }
  // Exactly tfjs's dy · step(x): 0 at x = 0, NaN where x is NaN or dy is infinite at x <= 0.
  const special = () => {
    const x = tf.tensor1d([-1, 0, 2, NaN, -3, 4, 0, 1, NaN]);
    const dy = tf.tensor1d([1, 2, 3, 4, Infinity, 6, 7, Infinity, 9]);
    return [reluGrad(dy, x)];
  };
  const [cpu] = await on("cpu", special);
  const [wasm] = await on("wasm", special);
  assertEquals(Array.from(wasm), Array.from(cpu));
  assertEquals(Array.from(cpu), [0, 0, 3, NaN, NaN, 6, 0, Infinity, NaN]);
  // Second derivatives go through it: d/dx of Σ d(Σ relu(x)·x)/dx = 2·step(x).
  const second = () => {
    const x = tf.tensor1d([-2, -0.5, 0.5, 2]);
    const inner = (t: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sum(tf.mul(tf.relu(u), u)))(t);
    return [tf.grad((t: tf.Tensor) => tf.sum(inner(t)))(x)];
  };
  assertEquals(Array.from((await on("wasm", second))[0]), Array.from((await on("cpu", second))[0]));
});

Deno.test("a clone outlives its disposed original on wasm", async () => {
  await initBackend();
  const a = tf.tensor1d([1, 2, 3]);
  const b = a.clone();
  a.dispose();
  assertEquals(Array.from(await b.data()), [1, 2, 3]);
  b.dispose();
});

/** One SGD step of the article's backbone + head under NT-Xent, from fixed weights. */
function sslStep(weights: Float32Array[], views: Float32Array, n: number): tf.Tensor[] {
  const backbone = articleBackbone();
  const head = articleHead();
  const vars = [...backbone.getWeights(), ...head.getWeights()];
  backbone.setWeights(weights.slice(0, 6).map((w, i) => tf.tensor(w, vars[i].shape)));
  head.setWeights(weights.slice(6).map((w, i) => tf.tensor(w, vars[6 + i].shape)));
  const x = tf.tensor4d(views, [2 * n, 28, 28, 1]);
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

Deno.test("a whole SSL training step of the article's model on wasm matches cpu", async () => {
  await initBackend();
  const n = 6;
  const probe = articleBackbone();
  const probeHead = articleHead();
  const shapes = [...probe.getWeights(), ...probeHead.getWeights()].map((w) => w.shape);
  probe.dispose();
  probeHead.dispose();
  const weights = shapes.map((s, i) => randomArray(size(s), 10 + i).map((v) => v * 0.3));
  const views = randomArray(2 * n * 28 * 28, 99).map((v) => (v + 1) / 2);
  const ref = await on("cpu", () => sslStep(weights, views, n));
  const got = await on("wasm", () => sslStep(weights, views, n));
  assert(Number.isFinite(ref[0][0]), "loss is finite");
  for (let i = 0; i < ref.length; i++) {
    // Compare the change each step made, so the test sees the gradients, not the weights.
    const before = i === 0 ? new Float32Array(1) : weights[i - 1];
    const dRef = ref[i].map((v, j) => v - before[j]);
    const dGot = got[i].map((v, j) => v - before[j]);
    const e = relativeError(dRef, dGot);
    assert(e < 1e-4, `${i === 0 ? "loss" : `weight ${i - 1}`}: relative error ${e}`);
  }
});

Deno.test("model.fit and optimizer.minimize train a CNN on wasm without leaking tensors", async () => {
  await initBackend();
  const backbone = articleBackbone();
  const model = tf.sequential({ layers: [backbone, articleHead()] });
  model.compile({ optimizer: tf.train.adam(0.01), loss: tf.losses.softmaxCrossEntropy });
  // Two classes a CNN separates at once: bright left half vs bright right half.
  const n = 32;
  const xs = new Float32Array(n * 28 * 28);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    labels.push(cls);
    for (let r = 0; r < 28; r++) {
      for (let c = 0; c < 28; c++) {
        xs[i * 784 + r * 28 + c] = (c < 14) === (cls === 0) ? 0.9 : 0.1 * ((r + c + i) % 3);
      }
    }
  }
  const x = tf.tensor4d(xs, [n, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(labels, "int32"), 10);
  const history = await model.fit(x, y, { epochs: 12, batchSize: 16, verbose: 0 });
  const losses = history.history.loss as number[];
  assert(
    losses[losses.length - 1] < losses[0] * 0.5,
    `loss fell from ${losses[0]} to ${losses.at(-1)}`,
  );

  const opt = tf.train.adam(1e-3);
  const step = () =>
    tf.dispose(
      opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor), true)!,
    );
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assertEquals(tf.memory().numTensors, before, "tensors alive after 5 more steps");
  tf.dispose([x, y]);
  model.dispose();
  opt.dispose();
});

Deno.test("the filter gradient takes the patches path where it measured faster", () => {
  // Output channels a multiple of 4, unless many input channels meet a tiny output.
  const path = ([ci, pixels, co]: number[]) => filterGradPath(ci, pixels, co);
  const patches = [[1, 676, 16], [3, 1024, 4], [16, 121, 16], [16, 9, 32], [64, 64, 64], [
    32,
    4,
    8,
  ]];
  assertEquals(patches.map(path), new Array(patches.length).fill("patches"));
  const convolution = [[1, 676, 2], [3, 49, 5], [16, 121, 18], [64, 16, 64], [128, 4, 32]];
  assertEquals(convolution.map(path), new Array(convolution.length).fill("convolution"));
});

for (
  const [xShape, fShape, stride, pad] of [
    [[2, 9, 9, 1], [3, 3, 1, 16], 1, [[0, 0], [1, 2], [2, 0], [0, 0]]],
    [[2, 10, 9, 3], [3, 3, 3, 8], 2, [[0, 0], [0, 1], [1, 1], [0, 0]]],
    [[3, 9, 8, 3], [3, 2, 3, 12], [2, 3], "same"],
    [[2, 12, 12, 1], [3, 3, 1, 4], 2, "valid"],
    [[2, 7, 7, 3], [3, 3, 3, 6], 1, [[0, 0], [2, 1], [0, 2], [0, 0]]],
  ] as [
    [number, number, number, number],
    [number, number, number, number],
    number | [number, number],
    Pad | tf.backend_util.ExplicitPadding,
  ][]
) {
  const label = `x[${xShape}] f[${fShape}] stride ${stride} pad ${JSON.stringify(pad)}`;
  Deno.test(`both filter-gradient paths match cpu, without leaks: ${label}`, async () => {
    await initBackend();
    const xv = randomArray(size(xShape), 7);
    const fv = randomArray(size(fShape), 8);
    const info = tf.backend_util.computeConv2DInfo(xShape, fShape, stride, 1, pad);
    const dyShape = [xShape[0], info.outHeight, info.outWidth, fShape[3]];
    const dyv = randomArray(size(dyShape), 9);
    const ref = await on("cpu", () => [
      tf.grad((f) =>
        tf.sum(
          tf.mul(
            tf.conv2d(tf.tensor4d(xv, xShape), f as tf.Tensor4D, stride, pad),
            tf.tensor(dyv, dyShape),
          ),
        )
      )(tf.tensor4d(fv, fShape)),
    ]);
    await tf.setBackend("wasm");
    const backend = tf.backend() as unknown as BackendWasm;
    const x = tf.tensor4d(xv, xShape);
    const dy = tf.tensor(dyv, dyShape);
    const attrs = { filterShape: fShape, strides: stride, pad, dataFormat: "NHWC" };
    const tensors = tf.memory().numTensors;
    const buffers = backend.numDataIds();
    for (const path of ["patches", "convolution"] as FilterGradPath[]) {
      if (path === "patches" && fShape[3] % 4 !== 0) continue;
      const out = conv2dBackpropFilterWasm(
        { inputs: { x, dy }, backend, attrs: attrs as unknown as tf.NamedAttrMap },
        path,
      );
      assertEquals(out.shape, fShape, `${path}: shape`);
      const got = backend.readSync(out.dataId) as Float32Array;
      const e = relativeError(ref[0], got);
      backend.disposeData(out.dataId);
      assert(e < 1e-4, `${path}: relative error ${e}`);
    }
    assertEquals(backend.numDataIds(), buffers, "backend buffers alive after both paths");
    assertEquals(tf.memory().numTensors, tensors, "tensors alive after both paths");
    // Through the engine, as training calls it: no tensor left behind either.
    const before = tf.memory().numTensors;
    const f = tf.tensor4d(fv, fShape);
    tf.dispose(tf.grad((w) => tf.sum(tf.conv2d(x, w as tf.Tensor4D, stride, pad)))(f));
    f.dispose();
    assertEquals(tf.memory().numTensors, before, "tensors alive after a gradient");
    tf.dispose([x, dy]);
  });
}

Deno.test("the SIMD Aᵀ·B accumulates like matMul, fused and unfused, every block shape", async () => {
  await initBackend();
  const backend = tf.backend() as unknown as BackendWasm;
  const heap = (t: tf.Tensor) => backend.typedArrayFromHeap(t).byteOffset;
  const variants = fusedAvailable() ? [false, true] : [false];
  // k: every row block (3, then a tail of 1 or 2); c: full 16-column blocks and 4-column tails.
  for (const [n, k, c] of [[1, 1, 4], [37, 7, 20], [300, 8, 32], [64, 2, 12], [0, 3, 16]]) {
    for (const fused of variants) {
      const a = tf.tensor(randomArray(n * k, n + k), [n, k]);
      const b = tf.tensor(randomArray(n * c, n + c), [n, c]);
      const start = tf.tensor(randomArray(k * c, k * c), [k, c]);
      const out = tf.tensor(randomArray(k * c, k * c), [k, c]); // not a clone: those share data
      accumulateAtB(backend, heap(a), heap(b), heap(out), n, k, c, fused);
      const ref = tf.add(start, tf.matMul(a, b, true, false));
      const e = relativeError(await ref.data() as Float32Array, await out.data() as Float32Array);
      assert(e < 1e-5, `n ${n} k ${k} c ${c} fused ${fused}: relative error ${e}`);
      tf.dispose([a, b, start, out, ref]);
    }
  }
});

for (
  const [x, f] of [
    [[4, 28, 28, 1], [3, 3, 1, 16]], // the article CNN's first layer
    [[2, 9, 8, 1], [3, 2, 1, 20]], // odd output width (a pixel in JavaScript), a 4-channel tail
    [[3, 5, 5, 1], [5, 5, 1, 4]], // one output pixel per image
  ] as [number[], number[]][]
) {
  Deno.test(`single-channel conv2d on SIMD matches cpu, forward and gradients: x [${x}] filter [${f}]`, async () => {
    await initBackend();
    const xv = randomArray(size(x), 51);
    const fv = randomArray(size(f), 52);
    const run = () => {
      const xt = tf.tensor4d(xv, x as [number, number, number, number]);
      const ft = tf.tensor4d(fv, f as [number, number, number, number]);
      const y = tf.conv2d(xt, ft, 1, "valid");
      const r = tf.tensor(randomArray(y.size, 53), y.shape);
      const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "valid"), r))
      )([xt, ft]);
      return [y, dx, df];
    };
    const ref = await on("cpu", run);
    const got = await on("wasm", run);
    for (const [i, name] of ["forward", "input gradient", "filter gradient"].entries()) {
      const e = relativeError(ref[i], got[i]);
      assert(e < 1e-5, `${name}: relative error ${e}`);
    }
  });
}

Deno.test("single-channel conv2d: both SIMD variants match, and other convolutions keep their kernel", async () => {
  await initBackend();
  const backend = tf.backend() as unknown as BackendWasm;
  const x = tf.tensor4d(randomArray(2 * 12 * 11, 61), [2, 12, 11, 1]);
  const f = tf.tensor4d(randomArray(3 * 3 * 32, 62), [3, 3, 1, 32]);
  const ref = tf.conv2d(x, f, 1, "valid");
  for (const fused of fusedAvailable() ? [false, true] : [false]) {
    const info = singleChannelConv2d(backend, x, f, fused);
    const got = tf.engine().makeTensorFromTensorInfo(info);
    const e = relativeError(await ref.data() as Float32Array, await got.data() as Float32Array);
    assert(e < 1e-5, `fused ${fused}: relative error ${e}`);
    got.dispose();
  }
  // Strided and padded convolutions of single-channel images are the original kernel's.
  const strided = await on(
    "wasm",
    () => [
      tf.conv2d(
        tf.ones([1, 7, 7, 1]) as tf.Tensor4D,
        tf.ones([3, 3, 1, 4]) as tf.Tensor4D,
        2,
        "same",
      ),
    ],
  );
  assertEquals(Array.from(strided[0]).slice(0, 4), [4, 4, 4, 4]);
  tf.dispose([x, f, ref]);
});
