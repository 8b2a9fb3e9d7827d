/**
 * What a pre-training checkpoint holds beside the models and the optimiser:
 * {@linkcode PretrainState} (`state.json`: the epoch, the history, early stopping's state) and
 * the settings its fingerprint is made of ({@linkcode checkpointSettings}: those the method
 * reads, not the epoch budget nor the worker count, so that a run may resume to train longer).
 *
 * @example
 * ```ts
 * import { checkpointSettings } from "./pretrain_checkpoint.ts";
 * import type { PretrainOptions } from "./pretrain_options.ts";
 * // Only the settings are read: `config`, `checkpointSettings` and whether there is a predictor.
 * const opts: Pick<PretrainOptions, "config" | "checkpointSettings"> = {
 *   config: { epochs: 50, batchSize: 256, learningRate: 1e-3, temperature: 0.2, workers: 2 },
 *   checkpointSettings: { head: "mlp:128,64", seed: 0 },
 * };
 * checkpointSettings(opts as PretrainOptions, "simclr");
 * // { head: "mlp:128,64", seed: 0, batchSize: 256, learningRate: 0.001, temperature: 0.2,
 * //   softmaxBeforeLoss: undefined }: no epochs, no workers
 * checkpointSettings(opts as PretrainOptions, "barlow");
 * // { ..., batchSize: 256, learningRate: 0.001, barlowLambda: 0.005, method: "barlow" }
 * ```
 *
 * @module
 */
import { BARLOW_LAMBDA, VICREG_WEIGHTS } from "./ssl_objective.ts";
import { type SslMethod, usesPredictor } from "./ssl_method.ts";
import { BYOL_TAU } from "./momentum_target.ts";
import type { PretrainConfig } from "./pretrain_config.ts";
import type { PretrainEpoch, PretrainOptions } from "./pretrain_options.ts";

/** The training state in a checkpoint's `state.json`. */
export interface PretrainState {
  epoch: number;
  history: PretrainEpoch[];
  stopper: { best: number | null; epochsWithoutProgress: number };
  stopped: boolean;
  config: PretrainConfig;
}

/**
 * The settings a checkpoint is made with: `config` but the epoch budget and the worker count,
 * and only the settings the method reads. SimCLR's are exactly those of the runs made before
 * there were methods (no `method` key), so their checkpoints still resume.
 */
export function checkpointSettings(
  opts: PretrainOptions,
  method: SslMethod,
): Record<string, unknown> {
  const {
    epochs: _epochs,
    workers: _workers,
    method: _method,
    temperature,
    softmaxBeforeLoss,
    emaTau,
    emaSchedule,
    barlowLambda,
    vicreg,
    ...rest
  } = opts.config;
  const own: Record<string, unknown> = method === "simclr"
    ? { temperature, softmaxBeforeLoss }
    : method === "byol"
    ? { emaTau: emaTau ?? BYOL_TAU, emaSchedule: emaSchedule ?? "cosine" }
    : method === "barlow"
    ? { barlowLambda: barlowLambda ?? BARLOW_LAMBDA }
    : method === "vicreg"
    ? { vicreg: { ...VICREG_WEIGHTS, ...vicreg } }
    : {};
  if (method !== "simclr") own.method = method;
  if (usesPredictor(method) && opts.checkpointSettings?.predictor === undefined) {
    own.predictor = opts.predictor ? "yes" : "none";
  }
  return { ...opts.checkpointSettings, ...rest, ...own };
}
