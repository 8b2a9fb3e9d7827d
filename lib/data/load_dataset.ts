/**
 * One entry point for every dataset the experiment and the notebooks accept,
 * named by a short spec: `"mnist"`, `"fashion-mnist"` (seeded split, see
 * `fashion_mnist.ts`), or `"folder:<path>"` for your own images.
 *
 * @example
 * ```ts
 * const { train, test } = await loadDataset("mnist");
 * ```
 *
 * @module
 */
import type { ImageDataset } from "./dataset.ts";
import { loadMnist } from "./mnist.ts";
import { loadFashionMnist } from "./fashion_mnist.ts";

/** A training set and a test set of the same image shape. */
export interface TrainTest {
  train: ImageDataset;
  test: ImageDataset;
}

/** The dataset specs `loadDataset` understands. */
export const DATASET_SPECS = ["mnist", "fashion-mnist", "folder:<path>"] as const;

/** Loads the dataset named by `spec`; a clear error for an unknown spec. */
export async function loadDataset(spec: string): Promise<TrainTest> {
  if (spec === "mnist") return await loadMnist();
  if (spec === "fashion-mnist") {
    const { train, test } = await loadFashionMnist();
    return { train, test };
  }
  if (spec.startsWith("folder:")) {
    throw new Error(
      `dataset "${spec}": image folders are not supported yet (they land with the "bring your own data" issue)`,
    );
  }
  throw new Error(`unknown dataset "${spec}"; use one of ${DATASET_SPECS.join(", ")}`);
}
