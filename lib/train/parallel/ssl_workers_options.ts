/**
 * What the data-parallel coordinator takes (`SslWorkers.create`, `ssl_workers.ts`): the options
 * of one coordinator ({@linkcode SslWorkersOptions}: the models it trains, the SSL method and
 * its loss settings, the optimizer, the number of workers), and the process-wide switches of the
 * data-parallel step ({@linkcode PARALLEL_STEP}) that benchmarks turn off one at a time.
 *
 * @example
 * ```ts
 * import { PARALLEL_STEP } from "./ssl_workers_options.ts";
 * PARALLEL_STEP.workerBarriers = false; // workers created from now on meet through main
 * PARALLEL_STEP.workerBarriers = true; // back to the default
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { ParallelStepSwitches } from "./protocol.ts";
import type { TargetNetworks } from "../ssl_objective.ts";
import type { SslMethod } from "../ssl_method.ts";
import type { VicregWeights } from "../../loss/vicreg.ts";

/** What `SslWorkers.create` needs. */
export interface SslWorkersOptions {
  /**
   * The main thread's backbone f: its weights are the ones trained. Built from tfjs's own layers
   * and ours (`BatchNorm`); any other custom layer must be registered in the workers too.
   */
  backbone: tf.LayersModel;
  /** The main thread's projection head g (z = g(f(x))), trained like the backbone. */
  head: tf.LayersModel;
  /** The SSL method (default "simclr"; `lib/train/ssl_objective.ts`). */
  method?: SslMethod;
  /** BYOL's and SimSiam's predictor q (p = q(z)), trained like the backbone; absent: p = z. */
  predictor?: tf.LayersModel;
  /**
   * BYOL's momentum network (required for BYOL): its weights are published with the others
   * and never trained here; the caller moves them after each step (`momentum_target.ts`).
   */
  target?: TargetNetworks;
  /** Image shape [height, width, channels]. */
  shape: [number, number, number];
  /** NT-Xent temperature τ (SimCLR). */
  temperature: number;
  /** Softmax on z before the loss (as `PretrainConfig.softmaxBeforeLoss`). */
  softmaxBeforeLoss?: boolean;
  /** Barlow Twins' λ. */
  barlowLambda?: number;
  /** VICReg's weights. */
  vicreg?: VicregWeights;
  /** Applied on the main thread to the summed gradients. */
  optimizer: tf.Optimizer;
  /** Number of workers (default 2). */
  workers?: number;
}

/**
 * The data-parallel step's switches (all on by default): `create` hands them to its workers, and
 * the main thread follows them too. Benchmarks turn one off to time the path it replaced.
 */
export const PARALLEL_STEP: ParallelStepSwitches = {
  directCopies: true,
  workerBarriers: true,
};
