/** lib/experiment/dev_holdout.ts: a dev image is scored, never trained on. */
import { devHoldout, devScorer } from "../../lib/experiment/dev_holdout.ts";
import { barDataset } from "../train/train_helpers.ts";
import { assert, assertEquals } from "../assert.ts";

Deno.test("devHoldout: the first images are scored, the rest are the students'; none in both", () => {
  const pool = Int32Array.from([9, 4, 7, 1, 3]);
  const { dev, unlabelled } = devHoldout(pool, 2);
  assertEquals(Array.from(dev), [9, 4]);
  assertEquals(Array.from(unlabelled), [7, 1, 3]);
  // A dev holdout as large as the pool still leaves the students one image.
  const all = devHoldout(pool, 10);
  assertEquals([all.dev.length, all.unlabelled.length], [4, 1]);
  assert(!Array.from(all.dev).some((i) => all.unlabelled.includes(i)));
});

Deno.test("devScorer: a classifier's accuracy on the dev images alone, with their own labels", async () => {
  const data = barDataset(10, 0); // labels alternate 0, 1
  const pool = Int32Array.from([3, 4, 5, 6, 7, 8]);
  const { unlabelled, score } = devScorer(data, pool, 4);
  assertEquals(Array.from(unlabelled), [7, 8]);
  // A classifier that answers "left" (0) to every image it is shown: right on images 4 and 6.
  let shown = 0;
  const alwaysLeft = {
    predict: (images: Float32Array, count: number) => {
      shown = count;
      assertEquals(images.length, count * 28 * 28);
      assertEquals(
        Array.from(images.subarray(0, 784)),
        Array.from(data.images.subarray(3 * 784, 4 * 784)),
      );
      return Promise.resolve(new Int32Array(count));
    },
    dispose: () => {},
  };
  assertEquals(await score(alwaysLeft), 0.5);
  assertEquals(shown, 4);
});
