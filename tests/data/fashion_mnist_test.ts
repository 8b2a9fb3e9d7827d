import { classCounts, imageAt } from "../../lib/data/dataset.ts";
import {
  FASHION_MNIST_CLASS_NAMES,
  loadFashionMnist,
  parseClassJson,
} from "../../lib/data/fashion_mnist.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../assert.ts";

/** A hash of an image's pixels, to compare images across splits. */
function key(pixels: Float32Array): string {
  let h = 0;
  for (const v of pixels) h = (Math.imul(h, 31) + Math.round(v * 255)) | 0;
  return String(h);
}

Deno.test("fashion-mnist: parseClassJson skips rows that are not 784 long", () => {
  const row = (v: number) => new Array(784).fill(v);
  const text = JSON.stringify({ data: [row(1), [], row(2), [1, 2, 3], row(255)] });
  const parsed = parseClassJson(text, "x.json");
  assertEquals(parsed.count, 3);
  assertEquals(parsed.skipped, [{ row: 1, length: 0 }, { row: 3, length: 3 }]);
  assertEquals(parsed.pixels.length, 3 * 784);
  assertEquals([parsed.pixels[0], parsed.pixels[784], parsed.pixels[2 * 784 + 783]], [1, 2, 255]);

  assertThrows(() => parseClassJson("{", "a.json"), "a.json", "not valid JSON");
  assertThrows(() => parseClassJson('{"rows": []}', "b.json"), "b.json", '{"data"');
  assertThrows(() => parseClassJson('{"data": [5]}', "c.json"), "c.json", "row 0 is not an array");
  const bad = row(0);
  bad[10] = 256;
  assertThrows(
    () => parseClassJson(JSON.stringify({ data: [row(0), bad] }), "d.json"),
    "d.json",
    "row 1, pixel 10 is 256",
  );
  bad[10] = 1.5;
  assertThrows(() => parseClassJson(JSON.stringify({ data: [bad] }), "e.json"), "pixel 10 is 1.5");
});

Deno.test("fashion-mnist: 60,000 / 10,000 images, 6,000 / 1,000 per class, 2 rows skipped", async () => {
  const t0 = performance.now();
  const fm = await loadFashionMnist();
  console.log(`first load: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const { train, test } = fm;
  assertEquals([train.count, train.height, train.width, train.channels], [60000, 28, 28, 1]);
  assertEquals([test.count, test.height, test.width, test.channels], [10000, 28, 28, 1]);
  assertEquals(train.images.length, 60000 * 784);
  assertEquals(fm.skipped, 2);
  assertEquals(fm.skippedRows, [
    { classIndex: 0, row: 1000, length: 0 },
    { classIndex: 0, row: 7001, length: 0 },
  ]);
  assertEquals([fm.seed, fm.testPerClass], [0, 1000]);
  assertEquals(classCounts(train), new Array(10).fill(6000));
  assertEquals(classCounts(test), new Array(10).fill(1000));
  assertEquals(train.classNames, [...FASHION_MNIST_CLASS_NAMES]);
  assertEquals(train.classNames[0], "T-shirt/top");
  assertEquals(train.classNames[9], "Ankle boot");

  let min = Infinity, max = -Infinity;
  for (const v of train.images) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  assertEquals([min, max], [0, 1]);

  // Shuffled across classes: the first 200 training images are not one class.
  const first = new Set(train.labels.subarray(0, 200));
  assertEquals(first.size, 10);

  // Train and test do not share images (Fashion-MNIST has a handful of exact
  // duplicates, so allow a few coincidences, far fewer than a leak would make).
  const trainKeys = new Set<string>();
  for (let i = 0; i < train.count; i++) trainKeys.add(key(imageAt(train, i)));
  let shared = 0;
  for (let i = 0; i < test.count; i++) if (trainKeys.has(key(imageAt(test, i)))) shared++;
  assert(shared < 50, `${shared} test images also in train`);

  // Cached: the same options give the very same object (not a second parse of the files).
  assert((await loadFashionMnist({ seed: 0 })) === fm, "not cached");
});

Deno.test("fashion-mnist: the split is deterministic for a seed and differs for another", async () => {
  const a = await loadFashionMnist({ seed: 0 });
  const b = await loadFashionMnist({ seed: 1 });
  assertEquals(classCounts(b.test), new Array(10).fill(1000));
  assert(a.train.labels.some((l, i) => l !== b.train.labels[i]), "same order for seeds 0 and 1");
  // The test sets hold different images, not just a different order.
  const testA = new Set<string>();
  for (let i = 0; i < a.test.count; i++) testA.add(key(imageAt(a.test, i)));
  let same = 0;
  for (let i = 0; i < b.test.count; i++) if (testA.has(key(imageAt(b.test, i)))) same++;
  assert(same > 1000 && same < 2500, `seed 1's test set shares ${same} images with seed 0's`);

  const small = await loadFashionMnist({ seed: 0, testPerClass: 10 });
  assertEquals([small.train.count, small.test.count], [69900, 100]);
  assertEquals(classCounts(small.test), new Array(10).fill(10));
  const small2 = await loadFashionMnist({ seed: 2, testPerClass: 10 });
  assert(small2.test.labels.some((l, i) => l !== small.test.labels[i]));

  // Only the last two results are cached, so seed 1 is now split again from the
  // parsed files: a new object with identical content.
  const again = await loadFashionMnist({ seed: 1 });
  assert(again !== b, "seed 1 was not recomputed");
  assertEquals(again.train.labels, b.train.labels);
  assertEquals(key(again.train.images), key(b.train.images));
  assertEquals(key(again.test.images), key(b.test.images));

  await assertRejects(() => loadFashionMnist({ testPerClass: 7000 }), "leaves no training image");
  await assertRejects(() => loadFashionMnist({ testPerClass: -1 }), "testPerClass");
  await assertRejects(() => loadFashionMnist({ seed: 0.5 }), "seed");
});
