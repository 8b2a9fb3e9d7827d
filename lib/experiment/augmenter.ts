/**
 * Kept for old imports: `makeAugmenter`, `augmentPipeline` and `Augmenter`
 * now live in `lib/augment/presets.ts`; import them from there.
 *
 * @example
 * ```ts
 * import { makeAugmenter } from "./augmenter.ts";
 * const views = makeAugmenter({ preset: "digits", strength: 0.5 }, [28, 28, 1]);
 * ```
 *
 * @module
 */
export { type Augmenter, augmentPipeline, makeAugmenter } from "../augment/presets.ts";
