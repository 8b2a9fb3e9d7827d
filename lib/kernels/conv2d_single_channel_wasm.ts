/**
 * A faster `Conv2D` for the wasm backend on single-channel images (the first
 * layer of a grey-image CNN: `[B, H, W, 1]` with a `[fh, fw, 1, Co]` filter,
 * stride 1, "valid", NHWC), on WebAssembly SIMD. XNNPACK took 33 ms for the
 * article CNN's first layer on 1,024 views (a 3x3 filter, 16 channels: 0.1
 * GMAC), about the time of its second layer, which does three times the work.
 * Here each call computes pairs of output pixels of one output row: per tap,
 * one filter vector per four output channels, a splat of each pixel's input,
 * and a multiply-add into accumulators held in locals (two pixels x up to 16
 * channels); the filter stays in cache and the input is read in place. An
 * odd last pixel of a row is computed in JavaScript. Every other convolution
 * goes to the original kernel.
 *
 * Where the engine has relaxed SIMD, the multiply-adds are fused
 * (`f32x4.relaxed_madd`), so results differ from the unfused variant in the
 * last bits, as in `simd_at_b_wasm.ts`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend } from "../backend.ts";
 * await initBackend("wasm"); // wraps the backend's Conv2D with this fast path
 * const x = tf.ones([2, 6, 6, 1]) as tf.Tensor4D;
 * const y = tf.conv2d(x, tf.ones([3, 3, 1, 8]) as tf.Tensor4D, 1, "valid"); // every entry 9
 * tf.dispose([x, y]);
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { fusedAvailable } from "./simd_at_b_wasm.ts";
import {
  advance,
  advanceBy,
  blockUnlessAnyZero,
  functionBody,
  I32,
  instantiateOnHeap,
  loopWhileCountingDown,
  moduleBytes,
  op,
  V128,
} from "./wasm_simd_builder.ts";

// Parameters (i32 byte addresses and strides).
const X = 0; // &x[b, i, j] for the first pixel of the run
const W = 1; // &filter[0, 0, 0, first output channel of the block]
const OUT = 2; // &out[b, i, j, first output channel of the block]
const PAIRS = 3; // pairs of output pixels
const FH = 4;
const FW = 5;
const XROW = 6; // bytes from one input row to the next
const OSTEP = 7; // bytes from one output pixel to the next (4·Co), also from one tap to the next
const PARAMS = 8;

/** Body for `vectors` vectors of output channels (4 each) and two pixels. */
function pairsBody(vectors: number, fused: boolean): number[] {
  const acc = (p: number, v: number) => PARAMS + p * vectors + v;
  const wv = PARAMS + 2 * vectors;
  const s0 = wv + 1;
  const s1 = wv + 2;
  const xr = s1 + 1; // i32 locals from here
  const xq = xr + 1;
  const wq = xq + 1;
  const rLeft = wq + 1;
  const qLeft = rLeft + 1;
  const madd = (s: number, a: number) =>
    fused
      ? [...op.localGet(s), ...op.localGet(wv), ...op.localGet(a), ...op.f32x4RelaxedMadd]
      : [...op.localGet(a), ...op.localGet(s), ...op.localGet(wv), ...op.f32x4Mul, ...op.f32x4Add];
  const code: number[] = [
    ...blockUnlessAnyZero(PAIRS),
    ...op.loop, // pairs
  ];
  for (let p = 0; p < 2; p++) {
    for (let v = 0; v < vectors; v++) {
      code.push(...op.f32Const(0), ...op.f32x4Splat, ...op.localSet(acc(p, v)));
    }
  }
  code.push(
    ...op.localGet(X),
    ...op.localSet(xr),
    ...op.localGet(W),
    ...op.localSet(wq),
    ...op.localGet(FH),
    ...op.localSet(rLeft),
    ...op.loop, // filter rows
    ...op.localGet(xr),
    ...op.localSet(xq),
    ...op.localGet(FW),
    ...op.localSet(qLeft),
    ...op.loop, // filter columns
    ...op.localGet(xq),
    ...op.f32Load(0),
    ...op.f32x4Splat,
    ...op.localSet(s0),
    ...op.localGet(xq),
    ...op.f32Load(4),
    ...op.f32x4Splat,
    ...op.localSet(s1),
  );
  for (let v = 0; v < vectors; v++) {
    code.push(...op.localGet(wq), ...op.v128Load(16 * v), ...op.localSet(wv));
    code.push(...madd(s0, acc(0, v)), ...op.localSet(acc(0, v)));
    code.push(...madd(s1, acc(1, v)), ...op.localSet(acc(1, v)));
  }
  code.push(
    ...advanceBy(xq, 4),
    ...advance(wq, OSTEP),
    ...loopWhileCountingDown(qLeft),
    ...op.end, // filter columns
    ...advance(xr, XROW),
    ...loopWhileCountingDown(rLeft),
    ...op.end, // filter rows
  );
  for (let v = 0; v < vectors; v++) {
    code.push(...op.localGet(OUT), ...op.localGet(acc(0, v)), ...op.v128Store(16 * v));
    code.push(
      ...op.localGet(OUT),
      ...op.localGet(OSTEP),
      ...op.i32Add,
      ...op.localGet(acc(1, v)),
      ...op.v128Store(16 * v),
    );
  }
  code.push(
    ...advanceBy(X, 8),
    ...advance(OUT, OSTEP),
    ...advance(OUT, OSTEP),
    ...loopWhileCountingDown(PAIRS),
    ...op.end, // pairs
    ...op.end, // block
  );
  return functionBody([[2 * vectors + 3, V128], [5, I32]], code);
}

/** Vectors of output channels per call: full blocks of 16 channels, and a tail of 4. */
const WIDTHS = [4, 1];

/** The module's bytes; its memory is imported as `env.memory` (`shared` as the backend's is). */
export function singleChannelConvModuleBytes(shared: boolean, fused: boolean): Uint8Array {
  const functions = WIDTHS.map((v) => ({ name: `pairs${v}`, body: pairsBody(v, fused) }));
  return moduleBytes(shared, PARAMS, functions);
}

type PairsFn = (...args: number[]) => void;

/** Whether the fast path takes this convolution. */
function applies(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.NamedAttrMap): boolean {
  const one = (v: unknown) =>
    v === 1 || v === undefined || (Array.isArray(v) && v.every((d) => d === 1));
  const [fh, fw, ci, co] = filter.shape;
  return x.shape.length === 4 && x.shape[3] === 1 && ci === 1 && co % 4 === 0 &&
    x.dtype === "float32" && filter.dtype === "float32" && attrs.pad === "valid" &&
    one(attrs.strides) && one(attrs.dilations) && attrs.dataFormat !== "NCHW" &&
    x.shape[1] >= fh && x.shape[2] >= fw;
}

/** `Conv2D` of single-channel images, as the module doc says. */
export function singleChannelConv2d(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  fused = fusedAvailable(),
): tf.TensorInfo {
  const [batch, inH, inW] = x.shape;
  const [fh, fw, , co] = filter.shape;
  const outH = inH - fh + 1;
  const outW = inW - fw + 1;
  const out = backend.makeOutput([batch, outH, outW, co], "float32");
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const wv = backend.typedArrayFromHeap(filter) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  const fns = instantiateOnHeap<Record<string, PairsFn>>(
    backend,
    `singleChannelConv-${fused}`,
    (shared) => singleChannelConvModuleBytes(shared, fused),
  );
  const pairs = Math.floor(outW / 2);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < outH; i++) {
      const xRow = (b * inH + i) * inW;
      const oRow = ((b * outH + i) * outW) * co;
      for (let c = 0; c < co;) {
        const vectors = co - c >= 16 ? 4 : 1;
        fns[`pairs${vectors}`](
          xv.byteOffset + 4 * xRow,
          wv.byteOffset + 4 * c,
          ov.byteOffset + 4 * (oRow + c),
          pairs,
          fh,
          fw,
          4 * inW,
          4 * co,
        );
        c += 4 * vectors;
      }
      if (outW % 2 === 1) {
        const j = outW - 1;
        for (let c = 0; c < co; c++) {
          let s = 0;
          for (let r = 0; r < fh; r++) {
            for (let q = 0; q < fw; q++) {
              s += xv[xRow + r * inW + j + q] * wv[(r * fw + q) * co + c];
            }
          }
          ov[oRow + j * co + c] = s;
        }
      }
    }
  }
  return out;
}

/** Builds the kernel config around `original`, the backend's (wrapped) `Conv2D`. */
export function singleChannelConv2dConfig(original: tf.KernelFunc): tf.KernelConfig {
  const kernelFunc = (args: Parameters<tf.KernelFunc>[0]) => {
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    if (!applies(x, filter, args.attrs ?? {})) return original(args);
    return singleChannelConv2d(args.backend as BackendWasm, x, filter);
  };
  return { kernelName: "Conv2D", backendName: "wasm", kernelFunc };
}
