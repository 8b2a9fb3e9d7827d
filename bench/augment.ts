/**
 * Benchmark case: the augmentation cost of one SSL training step — two views
 * of a batch of 512 MNIST-sized (28x28x1) images with the article's digit
 * pipeline (`digitAugment()`, strength 1), timed after warm-up. It runs on the
 * CPU in plain TypeScript, before each training step, so it must stay far
 * below the step itself (about 500 ms).
 *
 * @example
 * ```ts
 * import { benchAugment } from "./bench/augment.ts";
 * console.log(await benchAugment()); // "augment digits: 98765 views/s, 10.4 ms per 2x512 views"
 * ```
 *
 * @module
 */
import { Rng } from "../lib/rng.ts";
import { twoViews } from "../lib/augment/compose.ts";
import { digitAugment } from "../lib/augment/presets.ts";

/**
 * Times `twoViews(512 random 28x28x1 images, digitAugment())` after warm-up
 * and returns one line: `augment digits: N views/s, T ms per 2x512 views`.
 *
 * @example
 * ```ts
 * console.log(await benchAugment());
 * ```
 */
export function benchAugment(): Promise<string> {
  const count = 512;
  const size = 28;
  const rng = new Rng(2023);
  const images = new Float32Array(count * size * size);
  for (let i = 0; i < images.length; i++) images[i] = rng.next();
  const pipeline = digitAugment();
  const augRng = rng.fork("augment");
  const run = () => twoViews(images, count, size, size, 1, pipeline, augRng);
  for (let i = 0; i < 3; i++) run(); // warm-up: let V8 optimise the loops
  let reps = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (reps < 5 || (elapsed < 300 && reps < 50)) {
    run();
    reps++;
    elapsed = performance.now() - t0;
  }
  const ms = elapsed / reps;
  const viewsPerSecond = (2 * count) / (ms / 1000);
  return Promise.resolve(
    `augment digits: ${viewsPerSecond.toFixed(0)} views/s, ${
      ms.toFixed(1)
    } ms per 2x${count} views (28x28x1, digitAugment strength 1, per-image parameters)`,
  );
}

if (import.meta.main) console.log(await benchAugment());
