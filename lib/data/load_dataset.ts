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
import {
  type ImageFolderOptions,
  type ImageFolderReport,
  loadImageFolder,
} from "./image_folder.ts";

/** A training set and a test set of the same image shape. */
export interface TrainTest {
  train: ImageDataset;
  test: ImageDataset;
  /** For `folder:` datasets: what was loaded, converted and skipped (see `image_folder.ts`). */
  report?: ImageFolderReport;
}

/** Options of {@linkcode loadDataset}; used by `folder:` datasets only (see `image_folder.ts`). */
export type LoadDatasetOptions = ImageFolderOptions;

/** The dataset specs `loadDataset` understands. */
export const DATASET_SPECS = ["mnist", "fashion-mnist", "folder:<path>"] as const;

/**
 * Loads the dataset named by `spec`; a clear error for an unknown spec.
 * `options` (image size, channels, ...) apply to `folder:<path>` datasets.
 */
export async function loadDataset(
  spec: string,
  options: LoadDatasetOptions = {},
): Promise<TrainTest> {
  if (spec === "mnist") return await loadMnist();
  if (spec === "fashion-mnist") {
    const { train, test } = await loadFashionMnist();
    return { train, test };
  }
  if (spec.startsWith("folder:")) {
    const root = spec.slice("folder:".length);
    if (root === "") {
      throw new Error(`dataset "${spec}": give the folder, e.g. folder:/path/to/images`);
    }
    return await loadImageFolder(root, options);
  }
  throw new Error(`unknown dataset "${spec}"; use one of ${DATASET_SPECS.join(", ")}`);
}
