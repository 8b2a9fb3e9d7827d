/** Small synthetic image sets for training tests. */
import type { ImageDataset } from "../../lib/data/dataset.ts";
import { Rng } from "../../lib/rng.ts";

/**
 * `n` 28x28 grey images of two classes a CNN separates at once: a bright bar
 * on the left (class 0) or the right (class 1), at a random height, plus noise.
 */
export function barImages(n: number, seed: number): { images: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const images = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    labels[i] = cls;
    const top = rng.int(14);
    for (let r = 0; r < 28; r++) {
      for (let c = 0; c < 28; c++) {
        const bar = r >= top && r < top + 12 && (cls === 0 ? c >= 4 && c < 10 : c >= 18 && c < 24);
        images[i * 784 + r * 28 + c] = bar ? 0.9 : 0.1 * rng.next();
      }
    }
  }
  return { images, labels };
}

/** Two views: each image plus its own small noise (a cheap stand-in for augmentation). */
export function noisyViews(
  batch: Float32Array,
  _count: number,
  rng: Rng,
): [Float32Array, Float32Array] {
  const view = () => batch.map((v) => Math.min(1, Math.max(0, v + 0.1 * (rng.next() - 0.5))));
  return [view(), view()];
}

/** {@linkcode barImages} as a two-class `ImageDataset` ("left", "right"). */
export function barDataset(n: number, seed: number): ImageDataset {
  const { images, labels } = barImages(n, seed);
  return {
    name: `bars ${seed}`,
    images,
    labels,
    count: n,
    height: 28,
    width: 28,
    channels: 1,
    classNames: ["left", "right"],
  };
}
