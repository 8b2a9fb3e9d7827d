/**
 * What pre-training measures after every epoch, so a run is not blind (see
 * `lib/eval/monitor.ts`): on a fixed batch of view pairs drawn once, the
 * contrastive top-1 accuracy and the collapse indicator of z, and the
 * effective rank (RankMe, `lib/eval/rank.ts`) of h and of z — how many
 * directions each really uses, which a dimensional collapse lowers long
 * before the spread reaches 0; on the labelled images, the kNN accuracy of
 * the backbone's features h on the validation images (never the test set).
 * h and z come from one pass over the fixed views.
 *
 * @example
 * ```ts
 * import { articleBackbone } from "../models/article_cnn.ts";
 * import { articleHead } from "../models/heads/projection_heads.ts";
 * import { Rng } from "../rng.ts";
 * import { pretrainMonitor } from "./pretrain_monitor.ts";
 * const images = new Float32Array(40 * 784).map((_, i) => (i % 97) / 97);
 * const labels = Int32Array.from({ length: 40 }, (_, i) => i % 2);
 * const monitor = pretrainMonitor({
 *   images, shape: [28, 28, 1], indices: Int32Array.from({ length: 40 }, (_, i) => i),
 *   makeViews: (b) => [b, b], rng: new Rng(0),
 *   monitor: { labels, labelled: Int32Array.from([0, 1, 2, 3]), validation: Int32Array.from([4, 5]) },
 * });
 * const f = articleBackbone([28, 28, 1], [16, 16, 32], 0);
 * const g = articleHead(32, 2, 0);
 * const m = await monitor.measure(f, g); // { contrastiveAccuracy, zStd, rankH, rankZ, knnAccuracy, ... }
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../rng.ts";
import { gatherImages, gatherLabels } from "./batches.ts";
import { extractFeatures } from "../eval/features.ts";
import { knnClassify } from "../eval/knn.ts";
import { accuracy } from "../eval/metrics.ts";
import { collapseIndicator, contrastiveAccuracy } from "../eval/monitor.ts";
import { effectiveRank } from "../eval/rank.ts";

/** Labels for the kNN metric: labelled images vote, validation images are scored. */
export interface MonitorLabels {
  /** Labels of every image (indexed like `images`). */
  labels: Int32Array;
  /** The images whose labels vote. */
  labelled: Int32Array;
  /** The images scored (the validation split). */
  validation: Int32Array;
  /** Neighbours of the vote (default 20, at most the labelled images). */
  k?: number;
  /** View pairs of the fixed monitoring batch (default 256). */
  pairs?: number;
}

/** The metrics of one epoch. */
export interface MonitorMetrics {
  /** Share of views whose most similar other view is their twin. */
  contrastiveAccuracy: number;
  /** Collapse indicator: mean per-dimension std of the normalised z (≈ 1/√d healthy, 0 collapsed). */
  zStd: number;
  /** Width d of z. */
  zDim: number;
  /** Effective rank (RankMe, centred) of h on the fixed views: 1 (collapsed) to min(views, hDim). */
  rankH: number;
  /** Effective rank (RankMe, centred) of z on the fixed views: 1 (collapsed) to min(views, zDim). */
  rankZ: number;
  /** Width of h. */
  hDim: number;
  /** kNN accuracy of h on the validation images (absent without validation images). */
  knnAccuracy?: number;
}

/** What the monitor needs: the pre-training data and views, and the labels of the kNN metric. */
export interface MonitorOptions {
  images: Float32Array;
  shape: [number, number, number];
  indices: Int32Array;
  makeViews: (batch: Float32Array, count: number, rng: Rng) => [Float32Array, Float32Array];
  rng: Rng;
  monitor: MonitorLabels;
}

/** A monitor for one pre-training run; its views are drawn once, from their own random stream. */
export function pretrainMonitor(opts: MonitorOptions): {
  measure(backbone: tf.LayersModel, head: tf.LayersModel): Promise<MonitorMetrics>;
} {
  const { shape, monitor } = opts;
  const size = shape[0] * shape[1] * shape[2];
  const rng = opts.rng.fork("monitor-views");
  const n = Math.min(monitor.pairs ?? 256, opts.indices.length);
  const pick = rng.shuffle(Int32Array.from(opts.indices)).subarray(0, n);
  const [v1, v2] = opts.makeViews(gatherImages(opts.images, size, pick), n, rng);
  const views = new Float32Array(2 * n * size);
  views.set(v1, 0);
  views.set(v2, n * size);
  const voters = gatherImages(opts.images, size, monitor.labelled);
  const scored = gatherImages(opts.images, size, monitor.validation);
  const voterLabels = gatherLabels(monitor.labels, monitor.labelled);
  const scoredLabels = gatherLabels(monitor.labels, monitor.validation);
  return {
    async measure(backbone, head) {
      // One pass: each row is [h | z] of one view.
      let hDim = 0;
      const hz = await extractFeatures(
        (x) => {
          const h = (backbone.apply(x) as tf.Tensor).reshape([x.shape[0], -1]);
          hDim = h.shape[1]!;
          return tf.concat([h, (head.apply(h) as tf.Tensor).reshape([x.shape[0], -1])], 1);
        },
        views,
        2 * n,
        shape,
      );
      const zDim = hz.dim - hDim;
      const h = new Float32Array(2 * n * hDim);
      const z = new Float32Array(2 * n * zDim);
      for (let r = 0; r < 2 * n; r++) {
        h.set(hz.features.subarray(r * hz.dim, r * hz.dim + hDim), r * hDim);
        z.set(hz.features.subarray(r * hz.dim + hDim, (r + 1) * hz.dim), r * zDim);
      }
      const out: MonitorMetrics = {
        contrastiveAccuracy: contrastiveAccuracy(z, n, zDim),
        zStd: collapseIndicator(z, 2 * n, zDim),
        zDim,
        rankH: effectiveRank(h, 2 * n, hDim),
        rankZ: effectiveRank(z, 2 * n, zDim),
        hDim,
      };
      if (monitor.validation.length > 0 && monitor.labelled.length > 0) {
        const h = await extractFeatures(backbone, voters, monitor.labelled.length, shape);
        const hv = await extractFeatures(backbone, scored, monitor.validation.length, shape);
        const pred = knnClassify(h.features, voterLabels, hv.features, h.dim, {
          k: Math.min(monitor.k ?? 20, monitor.labelled.length),
        });
        out.knnAccuracy = accuracy(pred, scoredLabels);
      }
      return out;
    },
  };
}
