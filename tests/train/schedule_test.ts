import {
  decayTo,
  EarlyStopping,
  epochsForSteps,
  exponentialDecay,
} from "../../lib/train/schedule.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

Deno.test("exponential decay multiplies the rate by gamma every epoch", () => {
  assertAlmostEquals(exponentialDecay(1e-3, 0.95, 0), 1e-3, 1e-15);
  assertAlmostEquals(exponentialDecay(1e-3, 0.95, 2), 1e-3 * 0.9025, 1e-15);
});

Deno.test("early stopping waits for more than `patience` epochs without relative progress", () => {
  const stop = new EarlyStopping({ minRelativeImprovement: 0.01, patience: 2 });
  assertEquals(stop.update(10), false); // first epoch
  assertEquals(stop.update(9), false); // 10% better: progress
  assertEquals(stop.update(8.95), false); // 0.6%: 1 epoch without progress
  assertEquals(stop.update(8.94), false); // 2
  assertEquals(stop.update(8.93), true); // 3 > patience
  const again = new EarlyStopping({ minRelativeImprovement: 0.01, patience: 2 });
  again.restore(JSON.parse(JSON.stringify(stop.state())));
  assertEquals(again.epochsWithoutProgress, 3);
  assert(again.best < 8.94);
  const fresh = new EarlyStopping({ minRelativeImprovement: 0.01, patience: 2 });
  fresh.restore(JSON.parse(JSON.stringify(new EarlyStopping(fresh.config).state())));
  assertEquals(fresh.update(5), false, "Infinity survives a JSON round trip as null");
});

Deno.test("step budgets: epochs follow the labelled images, clamped; decayTo reaches its fraction", () => {
  // 80 images at batch 64: 2 steps an epoch.
  assertEquals(epochsForSteps(240, 80, 64), 120);
  assertEquals(epochsForSteps({ perImage: 3, min: 150, max: 400 }, 80, 64), 120);
  assertEquals(epochsForSteps({ perImage: 3, min: 150, max: 400 }, 16, 64), 150, "min 150 steps");
  assertEquals(epochsForSteps({ perImage: 3, min: 150, max: 400 }, 640, 64), 40, "max 400 steps");
  assertEquals(epochsForSteps(1, 1000, 64), 1, "at least one epoch");
  assertThrows(() => epochsForSteps(0, 10, 64), "step budget");
  assertAlmostEquals(Math.pow(decayTo(0.05, 120), 119), 0.05, 1e-9);
});
