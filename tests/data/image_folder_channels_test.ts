import path from "node:path";
import {
  colourSpread,
  formatReport,
  GREY_TOLERANCE,
  type ImageFolderOptions,
  isGrey,
  loadImageFolder,
} from "../../lib/data/image_folder.ts";
import { measureColour } from "../../lib/data/folder_decode.ts";
import { loadMnist } from "../../lib/data/mnist.ts";
import { Rng } from "../../lib/rng.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { patternImage, withTempDir, writeImage } from "./image_folder_helpers.ts";
import { writeRealisticFolder } from "../../tools/realistic_folders.ts";

const quiet: ImageFolderOptions = { cacheDir: null, quiet: true };

/**
 * MNIST training digit `i` as 28x28 RGB bytes; `inverted`: dark ink on white;
 * `tint`: added to R, G, B (clipped to 0..255); `noise`: σ of Gaussian noise
 * drawn per channel from `rng`.
 */
async function digitRgb(
  i: number,
  o: { inverted?: boolean; tint?: [number, number, number]; noise?: number; rng?: Rng } = {},
): Promise<Uint8Array> {
  const { train } = await loadMnist();
  const px = 28 * 28;
  const out = new Uint8Array(px * 3);
  const gauss = () => {
    const u = 1 - o.rng!.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * o.rng!.next());
  };
  for (let p = 0; p < px; p++) {
    const v = Math.round(train.images[i * px + p] * 255);
    const grey = o.inverted ? 255 - v : v;
    for (let c = 0; c < 3; c++) {
      const v = grey + (o.tint?.[c] ?? 0) + (o.noise ? o.noise * gauss() : 0);
      out[3 * p + c] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return out;
}

/** A realistic grey folder (MNIST as RGB PNG and JPEG q85, 8..256 px) plus 3 PNGs stored as grey. */
async function greyFolder(dir: string): Promise<number> {
  const written = await writeRealisticFolder(dir, { source: "mnist", images: 120, seed: 3 });
  const { train } = await loadMnist();
  for (let k = 0; k < 3; k++) {
    const grey = Uint8Array.from(train.images.subarray(k * 784, (k + 1) * 784), (v) => v * 255);
    await writeImage(path.join(dir, "digit-1", `stored-grey-${k}.png`), grey, 28, 28, 1);
  }
  return written.perClass.reduce((a, b) => a + b, 0) + 3;
}

Deno.test("colourSpread and isGrey: mean and largest max(R,G,B) - min(R,G,B); bad input is an error", () => {
  assertEquals(colourSpread(new Uint8Array([9, 9, 9, 0, 4, 10]), 3), { mean: 5, max: 10 });
  const rgba = new Uint8Array([10, 12, 11, 255, 0, 0, 0, 0]);
  assertEquals(colourSpread(rgba, 4), { mean: 1, max: 2 }, "alpha is not a colour");
  assertEquals(colourSpread(new Uint8Array([1, 200]), 1), { mean: 0, max: 0 }, "grey bytes");
  assertEquals(colourSpread(new Uint8Array(0), 3), { mean: 0, max: 0 });
  assertThrows(() => colourSpread(new Uint8Array(4), 3), "4 bytes", "3 channels");
  assertThrows(() => colourSpread(new Uint8Array(4), 5), "channels must be 1, 2, 3 or 4");
  assertEquals(GREY_TOLERANCE, { mean: 1.5, max: 24 });
  assert(isGrey({ mean: 1.5, max: 24 }), "the tolerance itself is grey");
  assert(!isGrey({ mean: 1.6, max: 3 }), "a faint tint everywhere");
  assert(!isGrey({ mean: 0.2, max: 25 }), "a small strongly coloured part");
  assert(isGrey({ mean: 3, max: 5 }, { mean: 4, max: 8 }), "another tolerance");
});

Deno.test("the grey tolerance accepts noisy grey JPEG (quality 75-95) and rejects a faint tint", async () => {
  await withTempDir(async (dir) => {
    const rng = new Rng(11);
    const greyMax = { mean: 0, max: 0 };
    const tintMin = { mean: Infinity, max: Infinity };
    for (const [i, inverted] of [[0, false], [1, true], [2, false], [3, true]] as const) {
      for (const q of [75, 85, 95]) {
        // Grey content with colour noise of σ = 3 levels per channel (a camera or scanner).
        const noisy = path.join(dir, `noisy-${i}-q${q}.jpg`);
        await writeImage(noisy, await digitRgb(i, { inverted, noise: 3, rng }), 28, 28, 3, q);
        const g = await measureColour(noisy, "white");
        assert(isGrey(g), `${noisy}: ${JSON.stringify(g)} is grey`);
        greyMax.mean = Math.max(greyMax.mean, g.mean);
        greyMax.max = Math.max(greyMax.max, g.max);
        // The same digit on tinted paper: black lifted to red (R + 12), white yellowed (B - 12).
        const tinted = path.join(dir, `tint-${i}-q${q}.jpg`);
        const tint: [number, number, number] = inverted ? [0, 0, -12] : [12, 0, 0];
        await writeImage(tinted, await digitRgb(i, { inverted, tint }), 28, 28, 3, q);
        const t = await measureColour(tinted, "white");
        assert(!isGrey(t), `${tinted}: ${JSON.stringify(t)} has colour`);
        tintMin.mean = Math.min(tintMin.mean, t.mean);
        tintMin.max = Math.min(tintMin.max, t.max);
      }
    }
    // Margins both ways, not just a pass: noise stays far below the mean tolerance,
    // the tint far above it.
    assert(greyMax.mean <= GREY_TOLERANCE.mean / 1.5, `noisy grey ${JSON.stringify(greyMax)}`);
    assert(tintMin.mean >= 2 * GREY_TOLERANCE.mean, `tinted ${JSON.stringify(tintMin)}`);
    // A colour photo-like pattern is far out.
    const colour = path.join(dir, "pattern.png");
    await writeImage(colour, patternImage("disc", 32, 32, rng), 32, 32, 3);
    assert((await measureColour(colour, "white")).mean > 20);
  });
});

Deno.test("channels auto: grey digits stored as RGB PNG and JPEG keep 1 channel, and the report says why", async () => {
  await withTempDir(async (dir) => {
    const total = await greyFolder(dir);
    const phases = new Map<string, number>();
    const { train, test, report } = await loadImageFolder(dir, {
      cacheDir: null,
      onProgress: (_done, _total, phase) => phases.set(phase, (phases.get(phase) ?? 0) + 1),
    });
    assertEquals(report.decoded, total);
    assertEquals([train.height, train.width, train.channels], [28, 28, 1], "grey defaults");
    assertEquals(test.channels, 1);
    assert(report.formats.png > 3 && report.formats.jpeg > 0, JSON.stringify(report.formats));
    assert(Object.keys(report.sizes).length >= 4, "mixed stored sizes");
    const c = report.channelChoice;
    assertEquals(c.mode, "auto");
    assertEquals(c.channels, 1);
    assertEquals(c.images, total);
    assertEquals(c.storedColour, total - 3, "all but the three grey PNGs are stored as RGB");
    assertEquals(c.colour, 0);
    assertEquals(c.colourExamples, []);
    assert(c.greyMaxDifference !== null && c.greyMaxDifference <= GREY_TOLERANCE.max);
    assertEquals(
      c.reason,
      `channels: 1 (auto): every image is grey in its pixels (${total} images, ` +
        `${total - 3} of them stored as RGB; largest channel difference ` +
        `${c.greyMaxDifference}/255)`,
    );
    assertEquals(phases.get("checking colour"), total - 3, "only images stored as colour");
    assertEquals(phases.get("decoding"), total);
    const text = formatReport(report);
    assert(text.includes(`x28x1 (crop)`), text);
    assert(text.includes(`  ${c.reason}`), text);
    assert(!text.includes("3x faster"), "no advice: auto already chose 1 channel");
    assertEquals(report.converted, total - 3, "the RGB files became grey");

    // The same pixels as asking for 1 channel.
    const given = await loadImageFolder(dir, { ...quiet, channels: 1 });
    assertEquals(given.train.images, train.images);
    assertEquals(given.report.channelChoice.mode, "given");
    assertEquals(given.report.channelChoice.colour, null, "not measured");
    assertEquals(
      given.report.channelChoice.reason,
      `channels: 1 (given): ${total - 3} of ${total} images stored as RGB converted to grey (luma)`,
    );
  });
});

Deno.test("channels auto: a few tinted or coloured images give 3 channels, and the report names them", async () => {
  await withTempDir(async (dir) => {
    const total = await greyFolder(dir);
    const tinted = [
      path.join(dir, "digit-2", "tint-black.jpg"),
      path.join(dir, "digit-7", "tint-white.jpg"),
    ];
    await writeImage(tinted[0], await digitRgb(5, { tint: [12, 0, 0] }), 28, 28, 3, 85);
    const yellowed = await digitRgb(6, { inverted: true, tint: [0, 0, -12] });
    await writeImage(tinted[1], yellowed, 28, 28, 3, 85);
    const photo = path.join(dir, "digit-4", "photo.png");
    await writeImage(photo, patternImage("disc", 40, 40, new Rng(2)), 40, 40, 3);
    const { train, report } = await loadImageFolder(dir, quiet);
    assertEquals([train.height, train.width, train.channels], [32, 32, 3], "colour defaults");
    const c = report.channelChoice;
    assertEquals([c.mode, c.channels, c.images, c.colour], ["auto", 3, total + 3, 3]);
    assertEquals(c.colourExamples.map((e) => e.file), [tinted[0], photo, tinted[1]], "by path");
    const first = c.colourExamples[0];
    assert(first.mean > GREY_TOLERANCE.mean && first.max < 40, JSON.stringify(first));
    assert(
      c.reason.startsWith(
        `channels: 3 (auto): 3 of ${total + 3} images have colour in their pixels ` +
          `(e.g. digit-2/tint-black.jpg, digit-4/photo.png, digit-7/tint-white.jpg; ` +
          `in digit-2/tint-black.jpg R, G, B differ by ${first.mean.toFixed(1)}/255 on average`,
      ),
      c.reason,
    );
    assert(c.reason.endsWith("grey allows 1.5/255 and 24/255)"), c.reason);
    assert(formatReport(report).includes(c.reason));
    assert(!report.warnings.some((w) => w.includes("3x faster")), "colour content: no advice");
  });
});

Deno.test("channels 3 given on grey content is honoured, with a warning that 1 would be 3x faster", async () => {
  await withTempDir(async (dir) => {
    const total = await greyFolder(dir);
    const { train, report } = await loadImageFolder(dir, { ...quiet, channels: 3, size: [16, 16] });
    assertEquals([train.height, train.width, train.channels], [16, 16, 3]);
    const c = report.channelChoice;
    assertEquals([c.mode, c.channels, c.colour], ["given", 3, 0]);
    assert(c.reason.startsWith(`channels: 3 (given): every image is grey in its pixels (${total}`));
    const warning = report.warnings.find((w) => w.includes("3x faster"));
    assertEquals(
      warning,
      "every image is grey in its pixels but channels: 3 was given: channels: 1 " +
        "(--channels 1) would train on 1 channel, 3x faster",
    );
    assert(formatReport(report).includes(`  warning: ${warning}`));
  });
});

Deno.test("channels auto on a cache hit: the same decision and report; a header without it misses", async () => {
  await withTempDir(async (dir) => {
    const images = path.join(dir, "images");
    const cacheDir = path.join(dir, "cache");
    await greyFolder(images);
    const first = await loadImageFolder(images, { cacheDir, quiet: true });
    const phases: string[] = [];
    const second = await loadImageFolder(images, {
      cacheDir,
      onProgress: (_d, _t, phase) => phases.push(phase),
    });
    assertEquals([first.report.cache, second.report.cache], ["miss", "hit"]);
    assertEquals(phases.filter((p) => p !== "reading headers"), [], "no image is decoded");
    assertEquals(second.train.channels, 1);
    assertEquals(second.report.channels, 1);
    assertEquals(second.report.channelChoice, first.report.channelChoice);
    const lines = (r: typeof first) => formatReport(r.report).split("\n").slice(1);
    assertEquals(lines(second), lines(first), "every line but the first (cache, seconds)");
    assertEquals(second.train.images, first.train.images);

    // A colour image changes the file list and the decision.
    await writeImage(
      path.join(images, "digit-3", "tint.jpg"),
      await digitRgb(9, { tint: [12, 0, 0] }),
      28,
      28,
      3,
      85,
    );
    const colour = await loadImageFolder(images, { cacheDir, quiet: true });
    assertEquals([colour.report.cache, colour.report.channels], ["miss", 3]);
    const hit = await loadImageFolder(images, { cacheDir, quiet: true });
    assertEquals([hit.report.cache, hit.train.channels], ["hit", 3]);
    assertEquals(hit.report.channelChoice, colour.report.channelChoice);

    // A header whose channel choice is missing or disagrees is not trusted.
    const json = hit.report.cacheFile!;
    const header = JSON.parse(await Deno.readTextFile(json));
    delete header.channelChoice;
    await Deno.writeTextFile(json, JSON.stringify(header));
    const again = await loadImageFolder(images, { cacheDir, quiet: true });
    assertEquals(again.report.cache, "miss");
    assertEquals(again.report.channelChoice, colour.report.channelChoice);
  });
});
