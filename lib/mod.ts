/**
 * The public API: self-supervised pre-training with a projection head, then
 * the classifiers built on it, in a few calls that take plain data (an
 * `ImageDataset` and a label split) and return trained models — the same
 * functions `deno task experiment`, the notebooks and the study run.
 *
 * A complete run (MNIST, 200 labels, a short pre-training; every other setting the
 * experiment's recipe, `pipeline/defaults.ts`). It is the README's example, which
 * tests/e2e/readme_example_test.ts runs as written (tests/pipeline/readme_example_test.ts
 * checks it is this one), so it is not run a second time as a doc test:
 *
 * @example
 * ```ts ignore
 * import { evaluate, fineTune, initBackend, loadDataset, pretrain, splitLabels } from "./mod.ts";
 *
 * await initBackend(); // tfjs's wasm backend with every gradient kernel training needs
 * const { train, test } = await loadDataset("mnist");
 * const split = splitLabels(train, { labels: 200, seed: 0 }); // 160 to train, 40 to validate
 * const pre = await pretrain(train, {
 *   indices: split.unlabelled, // contrastive pre-training never reads a label
 *   epochs: 1,
 *   maxStepsPerEpoch: 40,
 *   batchSize: 256,
 * });
 * const model = await fineTune(pre, train, split, { head: "new" }); // 1,500 AdamW steps by default
 * const { accuracy } = await evaluate(model, test);
 * console.log(`test accuracy ${(accuracy * 100).toFixed(1)}%`);
 * model.dispose();
 * pre.dispose();
 * ```
 *
 * Beyond that: `fineTune(pre, …, { head: "keep" })` keeps the projection head
 * as the classifier (the article's "same head"); `fineTune(null, …)` trains
 * from scratch; `distill(teacher, pre, …)` self-trains a student on the
 * unlabelled images; `linearProbe(pre.encoder, …)` and `knn(pre.encoder, …)`
 * classify frozen features (pass `null` for raw pixels).
 *
 * Trained models leave the process with `exportModel(dir, model, { dataset, classNames })`:
 * tfjs LayersModel files with standard layers (a browser page, the tfjs → Keras converter,
 * `deno task embed`) and a model card; `loadExportedModel(dir, { data })` reads one back,
 * checked against the data (docs/export.md). `pretrain(…, { checkpointDir })` resumes from its
 * checkpoint; a damaged or mismatched one is a `CheckpointError` of one line.
 *
 * And the pieces of a training loop of your own, as lightly's examples write
 * one (docs/api.md has it whole, and a test runs it): `buildBackbone` and
 * `projectionHead` (or `blockHead`), `makeAugmenter` for two views of a
 * batch, `imageBatches` for shuffled batches, `ntXentLoss`, and an optimiser
 * from tfjs (`tf.train.adam`) or `makeOptimizer` / `optimizerStep` (AdamW).
 * Call the models with `{ training: true }` while they learn: batch
 * normalisation uses the batch's statistics then, and updates its moving
 * ones.
 *
 * @module
 */
export { initBackend } from "./backend.ts";
export type { ImageDataset } from "./data/dataset.ts";
export { loadDataset, type TrainTest } from "./data/load_dataset.ts";
export type { SparseLabelSplit } from "./data/split.ts";
export { defaultValidation, splitLabels, type SplitLabelsOptions } from "./pipeline/labels.ts";
export {
  pretrain,
  PRETRAIN_DEFAULTS,
  type Pretrained,
  type PretrainSettings,
} from "./pipeline/pretrain.ts";
export {
  FINE_TUNE_DEFAULTS,
  fineTune,
  type FineTuned,
  type FineTuneOptions,
} from "./pipeline/fine_tune.ts";
export {
  DEFAULT_BACKBONE,
  DEFAULT_CLASSIFIER,
  FINE_TUNE_AUGMENT,
  METHOD_HEADS,
  METHOD_PREDICTORS,
  methodHead,
  PREDICTIVE_HEAD,
  type PredictorSetting,
  PRETRAIN_AUGMENT,
  SIMCLR_HEAD,
  WIDE_HEAD,
} from "./pipeline/defaults.ts";
export { knn, linearProbe, type ProbeClassifier } from "./pipeline/frozen.ts";
export { evaluate, type Evaluation } from "./pipeline/evaluate.ts";
export type { ImageClassifier } from "./pipeline/classifier.ts";
export {
  ARTICLE_HEAD,
  headConfigFor,
  headOutputWidth,
  type HeadSetting,
  headSettingText,
  parseHeadSetting,
} from "./models/heads/head_setting.ts";
export { projectionHead, type ProjectionHeadConfig } from "./models/heads/projection_heads.ts";
export { blockHead, type HeadBlock } from "./models/heads/block_head.ts";
export {
  type BackboneConfig,
  backboneOutputDim,
  backboneSettingText,
  buildBackbone,
  parseBackboneSetting,
} from "./models/backbones.ts";
export { batchNorm, convBnRelu } from "./models/batch_norm.ts";
export { dropout } from "./models/dropout.ts";
export { ntXentLoss } from "./loss/ntxent.ts";
export {
  type AugmentChoice,
  type Augmenter,
  augmentPipeline,
  colourAugment,
  cropFlipAugment,
  digitAugment,
  makeAugmenter,
  mildAffine,
  strokeAugment,
} from "./augment/presets.ts";
export { augmentBatch, twoViews } from "./augment/compose.ts";
export { imagesToPng, renderViewsGrid } from "./augment/grid_png.ts";
export { classCounts, subset } from "./data/dataset.ts";
export { collapseWarning, isCollapsing } from "./eval/monitor.ts";
export { embed2d } from "./eval/embed2d.ts";
export { meanAndSpread } from "./eval/metrics.ts";
export { gatherImages, gatherLabels, type ImageBatch, imageBatches } from "./train/batches.ts";
export {
  learningRateAt,
  makeOptimizer,
  type OptimizerSettings,
  optimizerStep,
} from "./train/optimizer.ts";
export { distill, type DistillOptions } from "./pipeline/distill.ts";
export { Rng } from "./rng.ts";
export {
  type ExportedModel,
  type ExportInfo,
  exportModel,
  loadExportedModel,
  ModelDataMismatch,
} from "./export/export_model.ts";
export type { ModelCard } from "./export/model_card.ts";
export { CheckpointError } from "./train/checkpoint.ts";
export type { PretrainEpoch } from "./train/pretrain.ts";
export type { SupervisedEpoch } from "./train/supervised.ts";
export {
  negativeCosineSimilarity,
  stopGradient,
  symmetricNegativeCosineLoss,
} from "./loss/negative_cosine.ts";
export { barlowTwinsLoss } from "./loss/barlow_twins.ts";
export { vicregLoss, type VicregTerms, vicregTerms, type VicregWeights } from "./loss/vicreg.ts";
export {
  effectiveRank,
  rankMe,
  singularValues,
  spectrum,
  type SpectrumOptions,
} from "./eval/rank.ts";
export { headLayerNames, type LayerFeatureMatrix, layerFeatures } from "./eval/layer_features.ts";
export {
  type LabelledImages,
  layerDiagnostics,
  type LayerDiagnosticsOptions,
  type LayerDiagnosticsRow,
} from "./eval/layer_diagnostics.ts";
export {
  type ImageTransformation,
  MIRROR,
  ROTATIONS,
  TRANSFORMATIONS,
  transformedCopies,
  transformProbe,
  type TransformProbeOptions,
  type TransformProbeResult,
  type TransformProbeRow,
} from "./eval/transform_probe.ts";
export type { MonitorMetrics } from "./train/pretrain_monitor.ts";
export {
  type LabelFreeChoice,
  labelFreeChoice,
  labelFreeChoiceMarkdown,
  spearmanCorrelation,
  type SweepPick,
  type SweepRun,
} from "./study/label_free_choice.ts";
export {
  byolPredictor,
  predictionHead,
  simsiamPredictor,
  wideProjector,
  type WideProjectorConfig,
} from "./models/heads/method_heads.ts";
export { parseSslMethod, SSL_METHODS, type SslMethod } from "./train/ssl_method.ts";
export {
  BARLOW_LAMBDA,
  objectiveLoss,
  type OnlineNetworks,
  onlineOutputs,
  type SslObjective,
  type TargetNetworks,
  targetOutputs,
  VICREG_WEIGHTS,
} from "./train/ssl_objective.ts";
export {
  BYOL_TAU,
  emaUpdate,
  type MomentumTarget,
  momentumTarget,
  tauAt,
  type TauSchedule,
} from "./train/momentum_target.ts";
