/** lib/experiment/dev_holdout.ts: a dev image is scored, never trained on. */
import { devHoldout } from "../../lib/experiment/dev_holdout.ts";
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
