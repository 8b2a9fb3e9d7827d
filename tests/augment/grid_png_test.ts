import sharp from "sharp";
import { imagesToPng, renderViewsGrid } from "../../lib/augment/grid_png.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";

/**
 * Decodes a PNG with sharp: `channels` is the PNG's own channel count; `at(x, y, c)` reads a
 * pixel of the decoded raw image (sharp may expand grey to RGB when decoding).
 */
async function decode(png: Uint8Array) {
  const meta = await sharp(png).metadata();
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number, c = 0) => data[(y * info.width + x) * info.channels + c];
  return {
    at,
    width: info.width,
    height: info.height,
    channels: meta.channels,
    format: meta.format,
  };
}

Deno.test("imagesToPng: grid size, nearest upscaling, separators", async () => {
  // 5 grey 4x3 images with values i/4, 3 per row, scale 2, separator 1
  const [h, w] = [4, 3];
  const images = new Float32Array(5 * h * w);
  for (let i = 0; i < 5; i++) images.fill(i / 4, i * h * w, (i + 1) * h * w);
  const png = await imagesToPng(images, 5, h, w, 1, { columns: 3, scale: 2, separator: 1 });
  assertEquals(Array.from(png.subarray(1, 4)), [80, 78, 71], "PNG signature"); // "PNG"
  const d = await decode(png);
  assertEquals([d.width, d.height, d.channels], [3 * 6 + 4, 2 * 8 + 3, 1]);
  const at = d.at;
  assertEquals(d.format, "png");
  assertEquals(at(0, 0), 128, "separator");
  assertEquals(at(1, 1), 0, "image 0");
  assertEquals(at(6, 8), 0, "image 0, last upscaled pixel");
  assertEquals(at(7, 1), 128, "separator between columns");
  assertEquals(at(8, 1), 64, "image 1 = 0.25");
  assertEquals(at(1, 10), 191, "image 3 (second row, first column) = 0.75");
  assertEquals(at(9, 10), 255, "image 4 (second row, second column) = 1");
  assertEquals(at(13, 17), 255, "image 4, last upscaled pixel");
  assertEquals(at(15, 10), 128, "empty cell after the last image");
  assertEquals(at(1, 9), 128, "separator between rows");
});

Deno.test("renderViewsGrid: three rows (originals, view 1, view 2), decodes to the right size", async () => {
  const [count, h, w] = [4, 28, 28];
  const n = count * h * w;
  const orig = new Float32Array(n + 100).fill(1); // longer arrays: only `count` images shown
  const v1 = new Float32Array(n).fill(0.5);
  const v2 = new Float32Array(n).fill(0);
  const dir = await Deno.makeTempDir();
  const path = `${dir}/sub/views.png`;
  const png = await renderViewsGrid(orig, v1, v2, {
    count,
    height: h,
    width: w,
    channels: 1,
    scale: 3,
    path,
  });
  assertEquals(await Deno.readFile(path), png, "written to path");
  const d = await decode(png);
  assertEquals([d.width, d.height], [4 * 84 + 5 * 2, 3 * 84 + 4 * 2]);
  const at = d.at;
  assertEquals(d.channels, 1, "grey PNG");
  assertEquals(at(10, 10), 255, "row 1: originals");
  assertEquals(at(10, 2 + 84 + 2 + 10), 128, "row 2: view 1 (0.5)");
  assertEquals(at(10, 2 * (84 + 2) + 2 + 10), 0, "row 3: view 2");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("renderViewsGrid: colour images give an RGB PNG; bad inputs are rejected", async () => {
  const rgb = new Float32Array(2 * 5 * 5 * 3);
  for (let i = 0; i < rgb.length; i += 3) rgb[i] = 1; // pure red
  const png = await renderViewsGrid(rgb, rgb, rgb, { count: 2, height: 5, width: 5, channels: 3 });
  const d = await decode(png);
  assertEquals(d.channels, 3);
  const scale = Math.floor(96 / 5);
  assertEquals([d.width, d.height], [2 * 5 * scale + 3 * 2, 3 * 5 * scale + 4 * 2]);
  assertEquals([d.at(5, 5, 0), d.at(5, 5, 1), d.at(5, 5, 2)], [255, 0, 0]);
  await assertRejects(
    () =>
      renderViewsGrid(rgb, rgb.subarray(10), rgb, { count: 2, height: 5, width: 5, channels: 3 }),
    "view1",
  );
  assert(png.length > 0);
});
