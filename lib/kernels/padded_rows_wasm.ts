/**
 * A few zero-padded rows of an image at a time, for the Winograd kernels (forward, input gradient,
 * filter gradient) and the direct convolution (one image at a time), instead of a zero-padded copy
 * of the whole tensor.
 *
 * The kernels read their input a few rows of 2x2 blocks at a time (`chunkRows`), each chunk from
 * `2·rows + 2` rows of the zero-padded image. Padding the whole `[B, H, W, C]` tensor first
 * (`padOnHeap`) writes a copy as large as the input to memory and reads it back: on the ResNet's
 * 32x32x16 feature maps of 256 views, 18 MB out and in again per call, more than the caches hold.
 * {@linkcode PaddedRows} copies just the rows a chunk needs into one small buffer on the heap
 * (a few tens of KB: it stays in cache), laid out exactly as the padded tensor's rows (same row
 * stride), so the kernels read it as they read the padded tensor. Its left and right borders are
 * zeroed once; rows above and below the image are zero-filled when asked for.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { initBackend } from "../backend.ts";
 * import { PaddedRows } from "./padded_rows_wasm.ts";
 * await initBackend("wasm");
 * const backend = tf.backend() as unknown as BackendWasm;
 * const x = tf.ones([2, 4, 4, 1]);
 * const rows = new PaddedRows(backend, x, { top: 1, bottom: 1, left: 1, right: 1 }, 3);
 * const at = rows.at(1, 0, 3); // rows 0-2 of image 1 padded to 6x6: a zero row, then two rows
 * const heap = new Float32Array(backend.typedArrayFromHeap(x).buffer, at, 18);
 * console.log(Array.from(heap)); // [0,0,0,0,0,0, 0,1,1,1,1,0, 0,1,1,1,1,0]
 * rows.free();
 * x.dispose();
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/** Zero rows and columns around the image (`Padding` of `conv2d_direct_wasm.ts`). */
interface Padding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Rows of a `[B, H, W, C]` tensor zero-padded by `pad`, a few at a time in one heap buffer. */
export class PaddedRows {
  readonly #backend: BackendWasm;
  readonly #x: tf.TensorInfo;
  readonly #pad: Padding;
  readonly #buffer: tf.TensorInfo;
  readonly #rowFloats: number;
  readonly #maxRows: number;

  /** A buffer for up to `maxRows` padded rows (allocates on the heap: take heap views after). */
  constructor(backend: BackendWasm, x: tf.TensorInfo, pad: Padding, maxRows: number) {
    if (Math.min(pad.top, pad.bottom, pad.left, pad.right) < 0) {
      throw new RangeError(`PaddedRows: padding must be ≥ 0, got ${JSON.stringify(pad)}`);
    }
    const [, , w, c] = x.shape;
    this.#backend = backend;
    this.#x = x;
    this.#pad = pad;
    this.#maxRows = maxRows;
    this.#rowFloats = (w + pad.left + pad.right) * c;
    this.#buffer = backend.makeOutput([Math.max(1, maxRows * this.#rowFloats)], "float32");
    (backend.typedArrayFromHeap(this.#buffer) as Float32Array).fill(0);
  }

  /**
   * Fills the buffer with padded rows `[row0, row0 + count)` of image `b` and returns its heap
   * address (byte offset). Rows outside the image are zeros.
   */
  at(b: number, row0: number, count: number): number {
    if (count > this.#maxRows) {
      throw new RangeError(`PaddedRows: ${count} rows asked for, room for ${this.#maxRows}`);
    }
    const [, h, w, c] = this.#x.shape;
    const { top, left } = this.#pad;
    const src = this.#backend.typedArrayFromHeap(this.#x) as Float32Array;
    const dst = this.#backend.typedArrayFromHeap(this.#buffer) as Float32Array;
    const cols = w * c;
    for (let i = 0; i < count; i++) {
      const r = row0 + i - top;
      const o = i * this.#rowFloats + left * c;
      if (r >= 0 && r < h) {
        const from = (b * h + r) * w * c;
        dst.set(src.subarray(from, from + cols), o);
      } else {
        dst.fill(0, o, o + cols);
      }
    }
    return dst.byteOffset;
  }

  /** Frees the buffer. */
  free(): void {
    this.#backend.disposeData(this.#buffer.dataId);
  }
}
