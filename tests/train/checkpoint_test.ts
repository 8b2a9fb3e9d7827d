/**
 * Checkpoints that cannot corrupt silently (lib/train/checkpoint.ts), tried as a user of
 * `pretrain(..., { checkpointDir })` from lib/mod.ts would: a truncated optimizer.bin, a flipped
 * byte, a missing file, the head changed from linear to mlp, a folder that is not a checkpoint,
 * each ONE line naming the folder, what is wrong and what to do; a write killed between its two
 * renames is put back; the manifest records names, shapes, sizes and checksums.
 */
import * as tf from "@tensorflow/tfjs";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { initBackend, pretrain } from "../../lib/mod.ts";
import {
  Checkpoint,
  CheckpointError,
  type CheckpointManifest,
  loadModel,
  MANIFEST_FILE,
  saveModel,
  writeCheckpoint,
} from "../../lib/train/checkpoint.ts";
import { articleBackbone } from "../../lib/models/article_cnn.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { barDataset } from "./train_helpers.ts";

const data = barDataset(48, 3);
const settings = {
  epochs: 1,
  batchSize: 16,
  maxStepsPerEpoch: 2,
  head: { kind: "linear" as const, outputDim: 16 },
};

/** Runs `pretrain` and returns the one line it failed with (a CheckpointError), or "". */
async function failure(dir: string, extra: Partial<Parameters<typeof pretrain>[1]> = {}) {
  try {
    const pre = await pretrain(data, { ...settings, ...extra, checkpointDir: dir });
    pre.dispose();
    return "";
  } catch (e) {
    assert(e instanceof CheckpointError, `a CheckpointError, got ${(e as Error).stack}`);
    assertEquals(e.message.split("\n").length, 1, "one line");
    assert(e.message.includes(dir), `names the folder: ${e.message}`);
    assert(/; (delete it|use another folder)/.test(e.message), `says what to do: ${e.message}`);
    return e.message;
  }
}

/** A fresh checkpoint of one epoch in a new temporary folder. */
async function checkpoint(): Promise<string> {
  const dir = join(await Deno.makeTempDir({ prefix: "ssl-ckpt-" }), "run");
  (await pretrain(data, { ...settings, checkpointDir: dir })).dispose();
  return dir;
}

Deno.test("a pre-training checkpoint lists every file and tensor, and resumes", async () => {
  await initBackend();
  const dir = await checkpoint();
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), "utf8")) as CheckpointManifest;
    assertEquals(m.kind, "pretrain");
    assertEquals(m.fingerprint.settings.head, "linear:16");
    assertEquals(m.fingerprint.sha256.length, 64);
    assertEquals(
      m.files.map((f) => f.path).sort(),
      [
        "backbone/model.json",
        "backbone/weights.bin",
        "head/model.json",
        "head/weights.bin",
        "optimizer.bin",
        "state.json",
      ],
    );
    for (const f of m.files) {
      assertEquals(readFileSync(join(dir, f.path)).byteLength, f.bytes, f.path);
      assertEquals(f.sha256.length, 64);
    }
    assertEquals(m.models.head.tensors.map((t) => t.shape), [[32, 16], [16]]);
    assertEquals(m.models.head.tensors.reduce((n, t) => n + t.bytes, 0), (32 * 16 + 16) * 4);
    assert(m.optimizer!.tensors.length > 0);
    const before = tf.memory().numTensors;
    const again = await pretrain(data, { ...settings, epochs: 2, checkpointDir: dir });
    assertEquals(again.resumedAt, 1);
    assertEquals(again.history.length, 2);
    again.dispose();
    assertEquals(tf.memory().numTensors, before, "no tensor left behind");
  } finally {
    await Deno.remove(join(dir, ".."), { recursive: true });
  }
});

Deno.test("optimizer.bin cut short (a kill during a write would leave it): one named line", async () => {
  await initBackend();
  const dir = await checkpoint();
  try {
    truncateSync(join(dir, "optimizer.bin"), 89);
    const before = tf.memory().numTensors;
    const line = await failure(dir);
    assert(line.includes("optimizer.bin has 89 bytes"), line);
    assert(line.includes("cut short"), line);
    assertEquals(tf.memory().numTensors, before, "nothing built for a bad checkpoint");
  } finally {
    await Deno.remove(join(dir, ".."), { recursive: true });
  }
});

Deno.test("a flipped byte in the weights: one named line (the checksum)", async () => {
  await initBackend();
  const dir = await checkpoint();
  try {
    const file = join(dir, "backbone", "weights.bin");
    const bytes = readFileSync(file);
    bytes[100] ^= 0x10;
    writeFileSync(file, bytes);
    const line = await failure(dir);
    assert(line.includes("backbone/weights.bin does not match its SHA-256 checksum"), line);
  } finally {
    await Deno.remove(join(dir, ".."), { recursive: true });
  }
});

Deno.test("a missing file: one named line", async () => {
  await initBackend();
  const dir = await checkpoint();
  try {
    await Deno.remove(join(dir, "head", "model.json"));
    const line = await failure(dir);
    assert(line.includes("is incomplete: head/model.json is missing"), line);
  } finally {
    await Deno.remove(join(dir, ".."), { recursive: true });
  }
});

Deno.test("the same folder reused with the head changed from linear to mlp: one named line", async () => {
  await initBackend();
  const dir = await checkpoint();
  try {
    const line = await failure(dir, { head: { kind: "mlp", hidden: [64], outputDim: 32 } });
    assertEquals(
      line,
      `checkpoint in ${dir} was made with head linear:16, this run uses head mlp:64,32; ` +
        `use another folder or delete it`,
    );
    // The budget may change (resume to train longer); the temperature may not.
    const t = await failure(dir, { temperature: 0.5 });
    assert(t.includes("was made with temperature 0.2, this run uses temperature 0.5"), t);
  } finally {
    await Deno.remove(join(dir, ".."), { recursive: true });
  }
});

Deno.test("a folder that is not a checkpoint (or an older format) is refused, not replaced", async () => {
  await initBackend();
  const dir = join(await Deno.makeTempDir({ prefix: "ssl-ckpt-" }), "run");
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, "state.json"), "{}"); // the layout of earlier versions
    const line = await failure(dir);
    assert(line.includes(`has no ${MANIFEST_FILE}`), line);
    await assertRejects(
      () => writeCheckpoint(dir, { json: { "a.json": 1 } }, { kind: "model" }),
      "is not a checkpoint and is not replaced",
    );
    assert(existsSync(join(dir, "state.json")), "the folder is left as it was");
  } finally {
    await Deno.remove(join(dir, ".."), { recursive: true });
  }
});

Deno.test("a write killed between its two renames is put back by the next read", async () => {
  await initBackend();
  const root = await Deno.makeTempDir({ prefix: "ssl-ckpt-" });
  const dir = join(root, "model");
  const f = articleBackbone([28, 28, 1]);
  try {
    await saveModel(f, dir);
    // What a kill after `DIR -> DIR.old-…` and before `DIR.tmp-… -> DIR` leaves.
    renameSync(dir, `${dir}.old-x`);
    mkdirSync(`${dir}.tmp-y`); // an unfinished write: no manifest
    const back = await loadModel(dir);
    assertEquals(back.getWeights().length, f.getWeights().length);
    back.dispose();
    assert(existsSync(join(dir, MANIFEST_FILE)));
    await saveModel(f, dir); // the next write removes the leftovers
    assertEquals([...Deno.readDirSync(root)].map((e) => e.name), ["model"]);
    await assertRejects(() => loadModel(join(root, "nothing")), "no checkpoint", "nothing");
  } finally {
    f.dispose();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("restoring into a model of other shapes is one line, not a tfjs error", async () => {
  await initBackend();
  const root = await Deno.makeTempDir({ prefix: "ssl-ckpt-" });
  const narrow = articleBackbone([28, 28, 1], [8, 8, 16]);
  const wide = articleBackbone([28, 28, 1]);
  try {
    await writeCheckpoint(root + "/c", { models: { backbone: narrow } }, { kind: "pretrain" });
    const c = Checkpoint.open(root + "/c", { kind: "pretrain" });
    let message = "";
    try {
      c.restoreModel("backbone", wide);
    } catch (e) {
      assert(e instanceof CheckpointError);
      message = e.message;
    }
    assert(message.includes('holds a model "backbone" of other shapes'), message);
    assert(message.includes("[3,3,1,8] there, [3,3,1,16] here"), message);
    let kind = "";
    try {
      Checkpoint.open(root + "/c", { kind: "export" });
    } catch (e) {
      kind = (e as Error).message;
    }
    assert(kind.includes('is a "pretrain" checkpoint, this needs "export"'), kind);
  } finally {
    narrow.dispose();
    wide.dispose();
    await Deno.remove(root, { recursive: true });
  }
});
