import path from "node:path";
import { ARMS } from "../../lib/experiment/run_seed.ts";
import { assert, assertEquals } from "../assert.ts";
import { makePatternFolder } from "../data/image_folder_helpers.ts";

/** Runs `deno task experiment ...args`; returns the exit code and stdout + stderr. */
async function experiment(...args: string[]): Promise<{ code: number; text: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "experiment", ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code, text: d.decode(stdout) + d.decode(stderr) };
}

Deno.test({
  name: "deno task experiment --dataset folder:<path> --quick runs every arm on a generated folder",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "folder_experiment_" });
    try {
      const images = path.join(dir, "shapes");
      // 4 classes x 45 coloured patterns (32x32 PNG), 20 unlabelled, and a few bad files.
      await makePatternFolder(images, { perClass: 45, unlabelled: 20 });
      await Deno.writeTextFile(path.join(images, "disc", "notes.txt"), "not an image");
      const png = await Deno.readFile(path.join(images, "checker", "0000.png"));
      await Deno.writeFile(path.join(images, "checker", "cut.png"), png.slice(0, 60));
      await Deno.writeFile(path.join(images, "disc", ".DS_Store"), new Uint8Array(8));
      const out = path.join(dir, "results.json");
      const cache = path.join(dir, "cache");
      const run = await experiment(
        "--dataset",
        `folder:${images}`,
        "--quick",
        "--epochs",
        "8",
        "--cache-dir",
        cache,
        "--out",
        out,
      );
      assertEquals(run.code, 0, run.text);
      // The load report names the bad files and the recipe follows the data.
      assert(run.text.includes("200 of 202 files loaded as 32x32x3"), run.text);
      assert(run.text.includes(path.join(images, "disc", "notes.txt")), "notes.txt is named");
      assert(run.text.includes(path.join(images, "checker", "cut.png")), "cut.png is named");
      assert(run.text.includes("backbone resnet, augmentation colour"), run.text);
      const r = JSON.parse(await Deno.readTextFile(out));
      assertEquals(r.dataset, `folder:${images}`);
      assertEquals(r.quick, true);
      assertEquals(r.labels, 36, "a quarter of the 144 labelled training images");
      // Sane, not targets (4 classes: chance is 25%, 36 test images): every arm ran and
      // gave a probability; the supervised arm and the best arm are well above chance.
      for (const arm of ARMS) {
        const accs: number[] = r.arms[arm].test_accuracy;
        assertEquals(accs.length, 1, arm);
        assert(accs.every((a) => a >= 0 && a <= 1), `${arm}: test accuracy ${accs}`);
      }
      const acc = (arm: string) => r.arms[arm].test_accuracy[0] as number;
      assert(acc("supervised") > 0.35, `supervised: ${acc("supervised")}`);
      assert(Math.max(...ARMS.map(acc)) > 0.5, "the best arm is well above chance");
      assert(r.timing_s.pretrain > 0 && r.pretrain_loss[0].length > 0);

      // Too large a label budget: a clear message with the counts, exit 2, no stack trace.
      const tooMany = await experiment(
        "--dataset",
        `folder:${images}`,
        "--quick",
        "--labels",
        "500",
        "--cache-dir",
        cache,
      );
      assertEquals(tooMany.code, 2, tooMany.text);
      assert(tooMany.text.includes("cache hit"), "the second load reads the cache");
      assert(
        tooMany.text.includes("--labels 500) is more than the 144 labelled training images"),
        tooMany.text,
      );
      assert(tooMany.text.includes("checker 36, disc 36"), tooMany.text);
      assert(!tooMany.text.includes("    at "), "no stack trace");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("deno task experiment: folder flags are refused for other datasets; a missing folder is named", async () => {
  const size = await experiment("--dataset", "mnist", "--size", "32");
  assertEquals(size.code, 2);
  assert(size.text.includes("--size applies to folder:<path> datasets only"), size.text);
  const missing = await experiment("--dataset", "folder:/no/such/images", "--quick");
  assertEquals(missing.code, 2);
  assert(missing.text.includes('"/no/such/images" does not exist'), missing.text);
  assert(!missing.text.includes("    at "), "no stack trace");
  const channels = await experiment("--dataset", "folder:/x", "--channels", "4");
  assertEquals(channels.code, 2);
  assert(channels.text.includes("--channels must be 1 (grey) or 3 (RGB)"), channels.text);
});
