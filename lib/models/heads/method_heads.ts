/**
 * The heads of the non-contrastive methods, each a few lines over `blockHead`, with the
 * papers' widths as defaults and every width an argument (so a small backbone gets a
 * scaled-down copy):
 *
 * - **prediction heads**, the extra MLP on one branch that breaks the symmetry of BYOL and
 *   SimSiam: dense (no bias) → batch norm → ReLU → dense, from d back to d.
 *   {@linkcode byolPredictor}: BYOL's q (Grill et al. 2020, "Bootstrap Your Own Latent",
 *   section 3.3), 256 → 4096 → 256. {@linkcode simsiamPredictor}: SimSiam's h (Chen & He 2021,
 *   "Exploring Simple Siamese Representation Learning", section 3), a bottleneck
 *   2048 → 512 → 2048. Both are {@linkcode predictionHead} with other widths; train them with
 *   `lib/loss/negative_cosine.ts`.
 * - **the wide projector** of Barlow Twins (Zbontar et al. 2021, section 2: three layers of
 *   8192, batch norm and ReLU after the first two) and VICReg's expander (Bardes et al. 2022,
 *   section 4.2: the same 8192-8192-8192): {@linkcode wideProjector}, trained with
 *   `lib/loss/barlow_twins.ts` or `lib/loss/vicreg.ts`. Its last dense layer has a bias, where
 *   the papers' code has none (`blockHead` gives a bias to a dense layer without batch norm);
 *   both losses are blind to it (Barlow Twins standardises every feature over the batch,
 *   VICReg's variance and covariance centre them and its invariance term subtracts the two
 *   views), so its gradient is 0 and it stays at its initial 0: `width` parameters that never
 *   train.
 *
 * @example
 * ```ts
 * import { byolPredictor, simsiamPredictor, wideProjector } from "./method_heads.ts";
 * const q = byolPredictor({ dim: 64, hidden: 256, seed: 0 }); // BYOL's q, scaled down
 * const h = simsiamPredictor({ dim: 64, bottleneck: 16, seed: 0 }); // SimSiam's bottleneck
 * const g = wideProjector({ inputDim: 32, width: 128, seed: 0 }); // Barlow Twins / VICReg
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { blockHead, type HeadBlock } from "./block_head.ts";

/**
 * The blocks of a prediction head from `dim` back to `dim` through `hidden` units: dense
 * (no bias) → batch norm → ReLU, then a linear dense layer.
 */
export function predictionBlocks(dim: number, hidden: number): HeadBlock[] {
  return [{ units: hidden, batchNorm: true, activation: "relu" }, { units: dim }];
}

/** A prediction head `dim → hidden → dim` ({@linkcode predictionBlocks}); `seed` fixes its weights. */
export function predictionHead(
  dim: number,
  hidden: number,
  seed?: number,
  name = "predictor",
): tf.Sequential {
  return blockHead(dim, predictionBlocks(dim, hidden), name, seed);
}

/** BYOL's predictor q: `dim → hidden → dim`, by default the paper's 256 → 4096 → 256. */
export function byolPredictor(
  options: { dim?: number; hidden?: number; seed?: number } = {},
): tf.Sequential {
  return predictionHead(options.dim ?? 256, options.hidden ?? 4096, options.seed, "predictor_byol");
}

/** SimSiam's bottleneck predictor h: `dim → bottleneck → dim`, by default 2048 → 512 → 2048. */
export function simsiamPredictor(
  options: { dim?: number; bottleneck?: number; seed?: number } = {},
): tf.Sequential {
  return predictionHead(
    options.dim ?? 2048,
    options.bottleneck ?? 512,
    options.seed,
    "predictor_simsiam",
  );
}

/** How {@linkcode wideProjector} is built: plain JSON. */
export interface WideProjectorConfig {
  /** Width of h, the backbone's output. */
  inputDim: number;
  /** Width of every layer, the output's included (default 8192, the papers'). */
  width?: number;
  /** Number of dense layers (default 3); all but the last have batch norm and ReLU. */
  depth?: number;
  /** Seed of the initial weights. */
  seed?: number;
}

/** The blocks of the wide projector: `depth - 1` dense-BN-ReLU blocks, then a linear layer. */
export function wideProjectorBlocks(config: WideProjectorConfig): HeadBlock[] {
  const width = config.width ?? 8192;
  const depth = config.depth ?? 3;
  if (!Number.isInteger(depth) || depth < 1) {
    throw new RangeError(`wideProjector: depth must be a positive integer, got ${depth}`);
  }
  const hidden: HeadBlock = { units: width, batchNorm: true, activation: "relu" };
  return [...Array.from({ length: depth - 1 }, () => ({ ...hidden })), { units: width }];
}

/** Barlow Twins' projector and VICReg's expander: `inputDim → width → … → width`. */
export function wideProjector(config: WideProjectorConfig): tf.Sequential {
  return blockHead(config.inputDim, wideProjectorBlocks(config), "projector_wide", config.seed);
}
