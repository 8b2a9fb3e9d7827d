import * as tf from "@tensorflow/tfjs";
import {
  bytesToUnit,
  checkDataset,
  classCounts,
  imageAt,
  type ImageDataset,
  imageSize,
  subset,
  toTensors,
} from "../../lib/data/dataset.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";

/** 5 images of 2x3 pixels with 2 channels; pixel value = (image*100 + position) / 1000. */
function tiny(): ImageDataset {
  const size = 2 * 3 * 2;
  const images = new Float32Array(5 * size);
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < size; j++) images[i * size + j] = (i * 100 + j) / 1000;
  }
  return {
    name: "tiny",
    images,
    labels: Int32Array.from([2, 0, -1, 2, 1]),
    count: 5,
    height: 2,
    width: 3,
    channels: 2,
    classNames: ["a", "b", "c"],
  };
}

Deno.test("dataset: imageAt is a view of one image", () => {
  const ds = tiny();
  assertEquals(imageSize(ds), 12);
  const img = imageAt(ds, 3);
  assertEquals(img.length, 12);
  assertAlmostEquals(img[0], 0.3);
  assertAlmostEquals(img[11], 0.311);
  img[0] = 0.5;
  assertEquals(ds.images[36], 0.5); // a view, not a copy
  assertThrows(() => imageAt(ds, 5), "tiny", "index 5");
  assertThrows(() => imageAt(ds, -1), "index -1");
});

Deno.test("dataset: subset copies the chosen images in order", () => {
  const ds = tiny();
  const part = subset(ds, [4, 1, 4], "part");
  assertEquals(part.name, "part");
  assertEquals(part.count, 3);
  assertEquals(part.labels, [1, 0, 1]);
  assertEquals(part.images.length, 36);
  assertAlmostEquals(part.images[0], 0.4);
  assertAlmostEquals(part.images[12], 0.1);
  assertAlmostEquals(part.images[35], 0.411);
  part.images[0] = 0;
  assertAlmostEquals(ds.images[48], 0.4); // a copy
  assertEquals(subset(ds, Int32Array.from([])).count, 0);
  assertThrows(() => subset(ds, [0, 7]), "tiny", "index 7");
  checkDataset(part);
});

Deno.test("dataset: classCounts ignores unlabelled images", () => {
  assertEquals(classCounts(tiny()), [1, 1, 2]);
  const bad = tiny();
  bad.labels[0] = 3;
  assertThrows(() => classCounts(bad), "tiny", "label 3");
});

Deno.test("dataset: checkDataset catches inconsistent fields", () => {
  checkDataset(tiny());
  const short = { ...tiny(), images: new Float32Array(59) };
  assertThrows(() => checkDataset(short), "tiny", "59 values");
  const labels = { ...tiny(), labels: new Int32Array(4) };
  assertThrows(() => checkDataset(labels), "4 labels for 5 images");
  const badLabel = tiny();
  badLabel.labels[1] = -2;
  assertThrows(() => checkDataset(badLabel), "label -2 of image 1");
  const badPixel = tiny();
  badPixel.images[7] = 1.5;
  assertThrows(() => checkDataset(badPixel), "value 1.5 at index 7");
  badPixel.images[7] = NaN;
  assertThrows(() => checkDataset(badPixel), "value NaN");
  assertThrows(() => checkDataset({ ...tiny(), width: 0 }), "width must be a positive integer");
});

Deno.test("dataset: bytesToUnit scales 0..255 to [0, 1]", () => {
  const out = bytesToUnit(Uint8Array.from([0, 51, 255]));
  assert(out instanceof Float32Array);
  assertEquals(Array.from(out), [0, Math.fround(0.2), 1]);
});

Deno.test("dataset: toTensors gives NHWC float32 images and int32 labels", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const ds = tiny();
  const all = toTensors(ds);
  assertEquals(all.x.shape, [5, 2, 3, 2]);
  assertEquals(all.x.dtype, "float32");
  assertEquals(all.y.shape, [5]);
  assertEquals(all.y.dtype, "int32");
  assertEquals(Array.from(all.y.dataSync()), [2, 0, -1, 2, 1]);
  // NHWC: x[i, r, c, ch] = images[((i * H + r) * W + c) * C + ch].
  assertAlmostEquals((all.x.arraySync() as number[][][][])[3][1][2][1], 0.311, 1e-6);
  all.x.dispose();
  all.y.dispose();

  const some = toTensors(ds, [4, 0]);
  assertEquals(some.x.shape, [2, 2, 3, 2]);
  assertEquals(Array.from(some.y.dataSync()), [1, 2]);
  assertAlmostEquals(some.x.dataSync()[0], 0.4, 1e-6);
  some.x.dispose();
  some.y.dispose();
  assertEquals(tf.memory().numTensors, before);
});
