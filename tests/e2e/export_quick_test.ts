/**
 * Trained models out, from a fresh run, as a user runs the commands: `deno task experiment
 * --quick --save-model DIR` saves the arm best on validation with its encoder and model card;
 * `deno task export` and `deno task embed` run on it with MNIST and with a folder of PNG files;
 * a damaged model folder is one line and exit code 2.
 *
 * @module
 */
import { join } from "node:path";
import { loadDataset } from "../../lib/data/load_dataset.ts";
import { imagesToPng } from "../../lib/augment/grid_png.ts";
import { parseNpy } from "../../lib/export/embed.ts";
import type { ModelCard } from "../../lib/export/model_card.ts";
import { assert, assertEquals } from "../assert.ts";

const decoder = new TextDecoder();

async function task(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["task", ...args],
    cwd: new URL("../..", import.meta.url).pathname,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: r.code, out: decoder.decode(r.stdout), err: decoder.decode(r.stderr) };
}

/** The last line a task printed on stderr (`deno task` itself prints a "Task …" line first). */
const lastLine = (s: string) => s.trimEnd().split("\n").at(-1)!;

Deno.test({
  name: "experiment --quick --save-model, then export and embed on it, with MNIST and a folder",
  sanitizeResources: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "ssl-export-e2e-" });
    try {
      const model = join(root, "model");
      const t0 = performance.now();
      const run = await task("experiment", "--quick", "--save-model", model);
      assertEquals(run.code, 0, run.out + run.err);
      const seconds = (performance.now() - t0) / 1000;
      assert(run.out.includes(`model saved to ${model}: ssl_`), run.out);
      const card = JSON.parse(await Deno.readTextFile(join(model, "model_card.json"))) as ModelCard;
      assertEquals(card.dataset.name, "mnist");
      assertEquals(card.input.height, 28);
      assert(["ssl_same_head", "ssl_new_head", "ssl_head_layer1"].includes(card.classifier!.arm!));
      assert(card.selection!.includes("validation"));
      assert(card.command!.includes("--save-model"), card.command);
      assert(card.testAccuracy!.ssl_new_head.length === 1, JSON.stringify(card.testAccuracy));
      const md = await Deno.readTextFile(join(model, "MODEL_CARD.md"));
      assert(md.includes(card.classifier!.arm!) && md.includes("28x28"), md);

      // export, again from the saved model, scored on MNIST's test set.
      const again = join(root, "again");
      const ex = await task("export", "--from", model, "--out", again, "--dataset", "mnist");
      assertEquals(ex.code, 0, ex.out + ex.err);
      const card2 = JSON.parse(
        await Deno.readTextFile(join(again, "model_card.json")),
      ) as ModelCard;
      assertEquals(card2.evaluation?.images, 10_000);
      assert(card2.evaluation!.accuracy > 0.3, `accuracy ${card2.evaluation!.accuracy}`);

      // embed: MNIST's test split (capped) and a folder of PNG files.
      const emb = await task(
        "embed",
        "--model",
        model,
        "--split",
        "test",
        "--limit",
        "500",
        "--out",
        join(root, "mnist.npy"),
      );
      assertEquals(emb.code, 0, emb.out + emb.err);
      const npy = parseNpy(await Deno.readFile(join(root, "mnist.npy")));
      assertEquals(npy.shape, [500, card.encoder.featureDim]);
      const csv = (await Deno.readTextFile(join(root, "mnist.csv"))).trimEnd().split("\n");
      assertEquals(csv.length, 501);
      assertEquals(csv[1].split(",").slice(0, 3), ["0", "test", "mnist:test:0"]);
      const html = await Deno.readTextFile(join(root, "mnist.html"));
      assertEquals((html.match(/<section>/g) ?? []).length, 24);

      // A folder of PNG files: 4 test digits of every class, in class folders "0" … "9".
      const folder = join(root, "digits");
      const { test } = await loadDataset("mnist");
      const picks = test.classNames.flatMap((_, c) =>
        Array.from(test.labels.keys()).filter((i) => test.labels[i] === c).slice(0, 4)
      );
      for (const i of picks) {
        const dir = join(folder, test.classNames[test.labels[i]]);
        await Deno.mkdir(dir, { recursive: true });
        const png = await imagesToPng(test.images.subarray(i * 784), 1, 28, 28, 1, {
          columns: 1,
          scale: 1,
          separator: 0,
        });
        await Deno.writeFile(join(dir, `digit-${i}.png`), png);
      }
      const onFolder = await task(
        "embed",
        "--model",
        model,
        "--dataset",
        `folder:${folder}`,
        "--cache-dir",
        "none",
        "--out",
        join(root, "folder"),
      );
      assertEquals(onFolder.code, 0, onFolder.out + onFolder.err);
      const rows = (await Deno.readTextFile(join(root, "folder.csv"))).trimEnd().split("\n");
      assertEquals(rows.length, 41);
      assert(rows.slice(1).every((r) => r.includes(`${folder}/`) && r.includes(".png")), rows[1]);
      const exFolder = await task(
        "export",
        "--from",
        model,
        "--out",
        join(root, "again"),
        "--dataset",
        `folder:${folder}`,
        "--cache-dir",
        "none",
      );
      assertEquals(exFolder.code, 0, exFolder.out + exFolder.err);
      assert(exFolder.out.includes("classifier on folder:"), exFolder.out);
      // Without the class "9" the classifier does not apply: one line, exit code 2.
      await Deno.remove(join(folder, "9"), { recursive: true });
      const nine = await task(
        "export",
        "--from",
        model,
        "--out",
        join(root, "again"),
        "--dataset",
        `folder:${folder}`,
        "--cache-dir",
        "none",
      );
      assertEquals(nine.code, 2, nine.out + nine.err);
      assert(lastLine(nine.err).includes("classifies 10 (0, 1, 2, 3, 4, ...) classes"), nine.err);

      // A damaged model folder: one line, exit code 2.
      const weights = join(model, "encoder", "weights.bin");
      await Deno.writeFile(weights, (await Deno.readFile(weights)).subarray(0, 100));
      const bad = await task("embed", "--model", model, "--out", join(root, "x"));
      assertEquals(bad.code, 2, bad.out + bad.err);
      const line = lastLine(bad.err);
      assert(
        line.startsWith(`embed: checkpoint in ${model} is damaged: encoder/weights.bin`),
        line,
      );
      assert(!/^\s+at /m.test(bad.err), bad.err);
      console.log(`quick experiment with --save-model: ${seconds.toFixed(0)} s`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
