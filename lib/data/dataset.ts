/**
 * The in-memory image dataset every loader returns and every model reads,
 * and a few helpers on it.
 *
 * Images are stored together in one `Float32Array`, channels last
 * (N x H x W x C, the layout of tfjs's `conv2d`), scaled to [0, 1]. Labels are
 * class indices into `classNames`, or -1 for an unlabelled example.
 *
 * @example
 * ```ts
 * import { classCounts, subset, toTensors } from "./dataset.ts";
 * import { loadMnist } from "./mnist.ts";
 * const { train } = await loadMnist();
 * classCounts(train); // [5923, 6742, ...]
 * const small = subset(train, [0, 1, 2, 3]);
 * const { x, y } = toTensors(small); // x: [4, 28, 28, 1], y: [4]
 * x.dispose();
 * y.dispose();
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** A labelled (or partly unlabelled) set of same-sized images, held in memory. */
export interface ImageDataset {
  /** A short human-readable name, e.g. `"mnist train"`. */
  name: string;
  /** `count * height * width * channels` values in [0, 1], channels last. */
  images: Float32Array;
  /** One class index per image; -1 = unlabelled. */
  labels: Int32Array;
  /** The number of images. */
  count: number;
  /** Rows per image. */
  height: number;
  /** Columns per image. */
  width: number;
  /** Channels per pixel (1 = grey, 3 = RGB). */
  channels: number;
  /** The name of each class; `labels` index into it. */
  classNames: string[];
  /**
   * Where each image came from, when it came from a file (image folders: the path as shown
   * in the load report); absent for MNIST-style datasets.
   */
  paths?: string[];
}

/** The number of values in one image: `height * width * channels`. */
export function imageSize(ds: ImageDataset): number {
  return ds.height * ds.width * ds.channels;
}

/**
 * Throws an `Error` naming the dataset if its fields disagree: array lengths
 * vs. `count` and image size, labels outside -1..classes-1, pixels outside
 * [0, 1] or NaN. Loaders call it; call it on hand-built datasets too.
 */
export function checkDataset(ds: ImageDataset): void {
  const where = `dataset "${ds.name}"`;
  for (const k of ["count", "height", "width", "channels"] as const) {
    if (!Number.isInteger(ds[k]) || ds[k] < 0 || (k !== "count" && ds[k] === 0)) {
      throw new Error(`${where}: ${k} must be a positive integer, got ${ds[k]}`);
    }
  }
  if (ds.images.length !== ds.count * imageSize(ds)) {
    throw new Error(
      `${where}: images has ${ds.images.length} values, expected count x height x width x ` +
        `channels = ${ds.count} x ${ds.height} x ${ds.width} x ${ds.channels}`,
    );
  }
  if (ds.labels.length !== ds.count) {
    throw new Error(`${where}: ${ds.labels.length} labels for ${ds.count} images`);
  }
  const k = ds.classNames.length;
  for (let i = 0; i < ds.count; i++) {
    const l = ds.labels[i];
    if (l < -1 || l >= k) {
      throw new Error(`${where}: label ${l} of image ${i} is outside -1..${k - 1}`);
    }
  }
  for (let i = 0; i < ds.images.length; i++) {
    const v = ds.images[i];
    if (!(v >= 0 && v <= 1)) {
      throw new Error(`${where}: value ${v} at index ${i} is outside [0, 1]`);
    }
  }
}

/** Pixel bytes (0..255) scaled to floats in [0, 1]. */
export function bytesToUnit(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}

function checkIndex(ds: ImageDataset, i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= ds.count) {
    throw new Error(`dataset "${ds.name}": index ${i} is outside 0..${ds.count - 1}`);
  }
}

/** Image `i` as a view (not a copy) of `height * width * channels` values. */
export function imageAt(ds: ImageDataset, i: number): Float32Array {
  checkIndex(ds, i);
  const size = imageSize(ds);
  return ds.images.subarray(i * size, (i + 1) * size);
}

/**
 * A new dataset holding copies of the images and labels at `indices`, in that
 * order (repeats allowed). `name` defaults to the source's name.
 */
export function subset(
  ds: ImageDataset,
  indices: ArrayLike<number>,
  name: string = ds.name,
): ImageDataset {
  const size = imageSize(ds);
  const n = indices.length;
  const images = new Float32Array(n * size);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    checkIndex(ds, i);
    images.set(ds.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = ds.labels[i];
  }
  const paths = ds.paths ? Array.from(indices, (i) => ds.paths![i]) : undefined;
  return {
    ...ds,
    name,
    images,
    labels,
    count: n,
    classNames: [...ds.classNames],
    ...(paths ? { paths } : {}),
  };
}

/** How many images carry each class label (length `classNames.length`; -1 is not counted). */
export function classCounts(ds: ImageDataset): number[] {
  const counts = new Array<number>(ds.classNames.length).fill(0);
  for (let i = 0; i < ds.count; i++) {
    const l = ds.labels[i];
    if (l >= 0) {
      if (l >= counts.length) {
        throw new Error(`dataset "${ds.name}": label ${l} of image ${i} has no class name`);
      }
      counts[l]++;
    }
  }
  return counts;
}

/**
 * The images (all, or those at `indices`) as a float32 tensor
 * `[n, height, width, channels]` and their labels as an int32 tensor `[n]`.
 * The caller disposes both. Without `indices`, `x` may share memory with
 * `ds.images` on the `cpu` backend: do not modify the images while it lives.
 */
export function toTensors(
  ds: ImageDataset,
  indices?: ArrayLike<number>,
): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const part = indices === undefined ? ds : subset(ds, indices);
  const x = tf.tensor4d(part.images, [part.count, ds.height, ds.width, ds.channels], "float32");
  const y = tf.tensor1d(part.labels, "int32");
  return { x, y };
}
