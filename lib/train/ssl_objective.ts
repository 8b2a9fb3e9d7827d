/**
 * The objective of a self-supervised method (`ssl_method.ts` names them): what the online
 * network outputs for a batch of views and the loss on those outputs, for SimCLR, BYOL, SimSiam, Barlow Twins and VICReg. One
 * implementation, used by single-thread pre-training (`pretrain.ts`) and by the data-parallel
 * workers (`parallel/ssl_worker.ts`), so both train the same thing.
 *
 * A batch is 2N views, the N first views then their N twins. The online network is the backbone
 * f, the projection head g (z = g(f(x))) and, for BYOL and SimSiam, a prediction head q
 * (p = q(z)). {@linkcode onlineOutputs} gives, row by row, what the loss differentiates:
 *
 * | method    | outputs (per view)  | loss ({@linkcode objectiveLoss})                                        |
 * | --------- | ------------------- | ----------------------------------------------------------------------- |
 * | `simclr`  | z                   | NT-Xent at temperature τ (`lib/loss/ntxent.ts`)                         |
 * | `byol`    | p                   | symmetric negative cosine of p against the momentum network's z (no grad) |
 * | `simsiam` | [z, p] side by side | symmetric negative cosine of p against stopgrad(z) of the other view   |
 * | `barlow`  | z                   | Barlow Twins, off-diagonal weight λ (`lib/loss/barlow_twins.ts`)       |
 * | `vicreg`  | z                   | VICReg, weights λ, μ, ν (`lib/loss/vicreg.ts`)                          |
 *
 * BYOL's targets come from the momentum (EMA) copy of f and g (`momentum_target.ts`):
 * {@linkcode targetOutputs}, computed outside the gradient function, so they carry no gradient.
 * Without a predictor (`predictor: false` in `pretrain`) p = z: SimSiam then collapses, as
 * the paper shows (Chen & He 2021, table 1), and so does head-less BYOL.
 *
 * Only SimCLR's loss splits by anchor rows ({@linkcode objectiveLossRows}); the others couple
 * the whole batch (Barlow Twins and VICReg standardise over it), so each data-parallel worker
 * computes the whole loss on every worker's outputs and keeps its own rows' gradient.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { objectiveLoss, onlineOutputs } from "./ssl_objective.ts";
 * import { parseSslMethod } from "./ssl_method.ts";
 * const method = parseSslMethod("barlow"); // a RangeError of one line for an unknown name
 * const backbone = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] });
 * const head = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
 * const views = tf.randomNormal([8, 4]) as tf.Tensor2D; // 4 images, then their 4 twins
 * const loss = tf.tidy(() =>
 *   objectiveLoss({ method, temperature: 0.2 }, onlineOutputs(method, { backbone, head }, views))
 * );
 * tf.dispose([views, loss]);
 * backbone.dispose();
 * head.dispose();
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { barlowTwinsLoss } from "../loss/barlow_twins.ts";
import { symmetricNegativeCosineLoss } from "../loss/negative_cosine.ts";
import { ntXentLoss, ntXentLossRows } from "../loss/ntxent.ts";
import { vicregLoss, type VicregWeights } from "../loss/vicreg.ts";
import { splitsByRows, type SslMethod, usesPredictor } from "./ssl_method.ts";

/** Barlow Twins' off-diagonal weight λ: the paper's 5e-3 (module notes of `pretrain.ts`). */
export const BARLOW_LAMBDA = 5e-3;

/** VICReg's weights: the paper's λ = μ = 25, ν = 1. */
export const VICREG_WEIGHTS: Readonly<Required<VicregWeights>> = Object.freeze({
  invariance: 25,
  variance: 25,
  covariance: 1,
});

/** The method and its hyper-parameters (plain JSON). */
export interface SslObjective {
  /** The method. */
  method: SslMethod;
  /** NT-Xent temperature τ (SimCLR only). */
  temperature: number;
  /** Softmax on z before NT-Xent (SimCLR only; the article's notebook). */
  softmaxBeforeLoss?: boolean;
  /** Barlow Twins' λ (default {@linkcode BARLOW_LAMBDA}). */
  barlowLambda?: number;
  /** VICReg's weights (default {@linkcode VICREG_WEIGHTS}). */
  vicreg?: VicregWeights;
}

/** The online network: backbone f, projection head g and, for BYOL and SimSiam, predictor q. */
export interface OnlineNetworks {
  backbone: tf.LayersModel;
  head: tf.LayersModel;
  /** Absent: p = z (SimSiam without predictor, head-less BYOL). */
  predictor?: tf.LayersModel;
}

/** The momentum network of BYOL: copies of f and g moved by an EMA, never by gradients. */
export interface TargetNetworks {
  backbone: tf.LayersModel;
  head: tf.LayersModel;
}

/** z = g(f(x)) in training mode (batch normalisation uses and updates the batch's statistics). */
function project(nets: { backbone: tf.LayersModel; head: tf.LayersModel }, x: tf.Tensor) {
  const h = nets.backbone.apply(x, { training: true }) as tf.Tensor;
  return nets.head.apply(h, { training: true }) as tf.Tensor2D;
}

/**
 * What the loss differentiates, one row per view (the table of the module doc): z, p, or z
 * and p side by side. Call it inside the gradient function.
 */
export function onlineOutputs(
  method: SslMethod,
  nets: OnlineNetworks,
  views: tf.Tensor,
): tf.Tensor2D {
  const z = project(nets, views);
  if (!usesPredictor(method)) return z;
  const p = nets.predictor ? nets.predictor.apply(z, { training: true }) as tf.Tensor2D : z;
  return method === "simsiam" ? tf.concat([z, p], 1) : p;
}

/**
 * BYOL's targets: z of the momentum network on the same views, in training mode as BYOL runs
 * it. Call it outside the gradient function (the targets then carry no gradient).
 */
export function targetOutputs(target: TargetNetworks, views: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => project(target, views));
}

/** The width of the outputs for a projection z of `zDim` (SimSiam: z and p side by side). */
export function outputWidth(method: SslMethod, zDim: number): number {
  return method === "simsiam" ? 2 * zDim : zDim;
}

/** The two views' halves of 2N rows. */
function halves(t: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  const n = t.shape[0] / 2;
  return tf.split(t, [n, n], 0) as [tf.Tensor2D, tf.Tensor2D];
}

/**
 * The method's loss on the outputs of all 2N views (and, for BYOL, the targets of all 2N).
 * Throws an `Error` when BYOL has no targets or the rows are odd.
 */
export function objectiveLoss(
  objective: SslObjective,
  outputs: tf.Tensor2D,
  targets?: tf.Tensor2D,
): tf.Scalar {
  const { method } = objective;
  if (outputs.shape[0] % 2 !== 0) {
    throw new Error(`objectiveLoss: need 2N rows (two views of N images), got ${outputs.shape[0]}`);
  }
  return tf.tidy(() => {
    switch (method) {
      case "simclr": {
        const z = objective.softmaxBeforeLoss ? tf.softmax(outputs) : outputs;
        const [a, b] = halves(z);
        return ntXentLoss(a, b, objective.temperature);
      }
      case "byol": {
        if (!targets) throw new Error("objectiveLoss: BYOL needs the momentum network's targets");
        const [p1, p2] = halves(outputs);
        const [t1, t2] = halves(targets);
        return symmetricNegativeCosineLoss(p1, p2, t1, t2);
      }
      case "simsiam": {
        const d = outputs.shape[1] / 2;
        const [z, p] = tf.split(outputs, [d, d], 1) as [tf.Tensor2D, tf.Tensor2D];
        const [z1, z2] = halves(z);
        const [p1, p2] = halves(p);
        return symmetricNegativeCosineLoss(p1, p2, z1, z2);
      }
      case "barlow": {
        const [z1, z2] = halves(outputs);
        return barlowTwinsLoss(z1, z2, objective.barlowLambda ?? BARLOW_LAMBDA);
      }
      case "vicreg": {
        const [z1, z2] = halves(outputs);
        return vicregLoss(z1, z2, { ...VICREG_WEIGHTS, ...objective.vicreg });
      }
      default:
        throw new RangeError(`objectiveLoss: unknown method ${JSON.stringify(method)}`);
    }
  });
}

/**
 * SimCLR's part of the loss contributed by anchor rows `start..end-1` (`ntXentLossRows`): the
 * parts of a partition of the 2N rows add up to {@linkcode objectiveLoss}. Throws an `Error`
 * for the methods whose loss does not split ({@linkcode splitsByRows}).
 */
export function objectiveLossRows(
  objective: SslObjective,
  outputs: tf.Tensor2D,
  start: number,
  end: number,
): tf.Scalar {
  if (!splitsByRows(objective.method)) {
    throw new Error(`objectiveLossRows: the ${objective.method} loss does not split by rows`);
  }
  return tf.tidy(() => {
    const z = objective.softmaxBeforeLoss ? tf.softmax(outputs) : outputs;
    return ntXentLossRows(z, start, end, objective.temperature);
  });
}
