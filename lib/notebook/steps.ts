/**
 * The experiment as resumable steps, for the notebooks: thin caching wrappers
 * over the arms of `arms.ts` (the same functions `deno task experiment`
 * runs). Each step saves what it produced under a checkpoint folder in
 * `data/checkpoints/` (tfjs's own model format) and the next notebook loads
 * it from there, or recomputes it when it is missing — so every notebook runs
 * top to bottom on its own.
 *
 * The folder name holds the dataset, label budget, seed and mode, plus a hash
 * of the whole recipe: changing any setting starts fresh instead of mixing
 * results of different recipes.
 *
 * One concept a module: `step_context.ts` (what the steps share for a seed),
 * `step_checkpoint_dir.ts` (the checkpoint folder of a recipe and seed),
 * `step_pretrained.ts` (pre-training), `step_trained_arm.ts` (one arm,
 * trained or loaded), `step_arm_checkpoint.ts` (an arm's checkpoint),
 * `step_arms_ahead.ts` (the missing arms trained side by side),
 * `step_evaluation.ts` (test scores of one arm or all) and
 * `step_features.ts` (backbone features). This module gathers them: import
 * from here.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { quickRecipe } from "../experiment/recipe.ts";
 * import { prepareContext, pretrained, testPredictions, trainedArm } from "./steps.ts";
 * await initBackend();
 * const ctx = await prepareContext(quickRecipe(), 0);
 * const pre = await pretrained(ctx, { progress: true }); // trains, or loads the checkpoint
 * const arm = await trainedArm(ctx, "ssl_new_head", pre);
 * const { accuracy } = await testPredictions(ctx, arm);
 * arm.dispose();
 * pre.dispose();
 * ```
 *
 * @module
 */
export { checkpointDir, checkpointRoot, configHash } from "./step_checkpoint_dir.ts";
export { prepareContext, type StepContext, type StepOptions } from "./step_context.ts";
export { pretrained, pretrainStepsPerEpoch } from "./step_pretrained.ts";
export { type DistilledInfo } from "./step_arm_checkpoint.ts";
export { fineTuneEpochs, type TrainedArm, trainedArm } from "./step_trained_arm.ts";
export { trainArmsAhead } from "./step_arms_ahead.ts";
export { type ArmOutcome, evaluatedArms, testPredictions } from "./step_evaluation.ts";
export { backboneFeatures } from "./step_features.ts";
