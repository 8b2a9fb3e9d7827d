import { join } from "node:path";
import { LABEL_CURVE_ARMS, type LabelCurvePoint } from "../../lib/study/label_curve.ts";
import { ablationTables } from "../../lib/study/report.ts";
import { studyFigures } from "../../lib/study/charts.ts";
import {
  labelCurveLines,
  readSavedStudy,
  savedStudyPath,
  studyFromJson,
} from "../../lib/notebook/study_results.ts";
import { assert, assertEquals } from "../assert.ts";

const scores = (v: number) => ({ test: [v, v + 0.01], dev: [v, v] });
const summary = (v: number) => ({
  h: { linear_probe: scores(v), knn: scores(v - 0.05) },
  z: { linear_probe: scores(v - 0.1), knn: scores(v - 0.15) },
  pretrain_loss: [[6, 5], [6, 5]],
  pretrain_s: [1, 1],
  zero_h_fraction: [0, 0],
});
const point = (labels: number, base: number): LabelCurvePoint => ({
  labels,
  seconds: [1, 1],
  arms: Object.fromEntries(
    LABEL_CURVE_ARMS.map((
      a,
      i,
    ) => [a, { test_accuracy: [base + i * 0.01, base + i * 0.01 + 0.002] }]),
  ) as LabelCurvePoint["arms"],
});
const study = (labels: unknown) => ({
  kind: "ablation",
  dataset: "mnist",
  quick: false,
  seeds: [0, 1],
  parts: ["heads", "temperature", "labels"],
  budget: {
    pretrain_epochs: 8,
    batch_size: 512,
    max_steps_per_epoch: null,
    unlabelled: 58000,
    labels: 200,
    dev: 1000,
    test: 10000,
  },
  selection: "dev",
  heads: { temperature: 0.2, best: "mlp1", results: { none: summary(0.8), mlp1: summary(0.85) } },
  temperature: {
    head: "mlp1",
    best: 0.2,
    results: [{ ...summary(0.85), temperature: 0.2, reused: true }],
  },
  labels,
  timing_s: { total: 1, pretrain: 1, heads: 1, temperature: 1, labels: 1 },
  date: "2026-12-04T00:00:00.000Z",
});

Deno.test("a saved study of this version is read whole, and its tables and charts draw", () => {
  const saved = studyFromJson(
    study({ head: "mlp-bn:128,classes", temperature: 0.2, budgets: [point(10, 0.5)] }),
  );
  assertEquals(saved.notes, []);
  const r = saved.results!;
  assertEquals(r.parts, ["heads", "temperature", "labels"]);
  assert(ablationTables(r).includes("| 10 |"));
  assertEquals(studyFigures(r).length, 4);
});

Deno.test("an earlier version's label curve is left out with a note; the other parts stay", () => {
  const earlier = {
    head: "mlp2",
    temperature: 0.2,
    budgets: [{
      name: "20",
      count: 20,
      epochs: 40,
      supervised_strong: { test_accuracy: [0.6, 0.62] },
      ssl_new_head: { test_accuracy: [0.7, 0.71] },
    }],
  };
  const saved = studyFromJson(study(earlier), "ablation.json");
  const r = saved.results!;
  assertEquals(r.labels, undefined);
  assertEquals(r.parts, ["heads", "temperature"]);
  assertEquals(saved.notes.length, 1);
  assert(saved.notes[0].includes("earlier version"), saved.notes[0]);
  assert(saved.notes[0].startsWith("ablation.json"), saved.notes[0]);
  // What is left draws: the head study's two charts and the temperature sweep's.
  assertEquals(studyFigures(r).length, 3);
  assert(ablationTables(r).includes("Head study"));
  // A label curve that misses an arm cannot be drawn either.
  const partial = point(10, 0.5) as unknown as { arms: Record<string, unknown> };
  delete partial.arms.self_trained;
  const noted = studyFromJson(study({ head: "x", temperature: 0.2, budgets: [partial] }));
  assertEquals(noted.results!.labels, undefined);
  assert(noted.notes[0].includes("cannot read"), noted.notes[0]);
});

Deno.test("readSavedStudy: a missing file is nothing; a broken or foreign one is a note", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals(readSavedStudy(join(dir, "none.json")), { notes: [] });
    const bad = join(dir, "bad.json");
    await Deno.writeTextFile(bad, "{ not json");
    const broken = readSavedStudy(bad);
    assertEquals(broken.results, undefined);
    assert(broken.notes[0].includes("not valid JSON"), broken.notes[0]);
    const foreign = join(dir, "experiment.json");
    await Deno.writeTextFile(foreign, JSON.stringify({ dataset: "mnist", arms: {} }));
    assert(readSavedStudy(foreign).notes[0].includes("not the results of"));
    const good = join(dir, "ablation.json");
    await Deno.writeTextFile(good, JSON.stringify(study(undefined)));
    assertEquals(readSavedStudy(good).results!.parts, ["heads", "temperature"]);
    // Another dataset's study is not shown as this one's.
    const fashion = join(dir, "ablation-fashion-mnist.json");
    await Deno.writeTextFile(
      fashion,
      JSON.stringify({ ...study(undefined), dataset: "fashion-mnist" }),
    );
    assertEquals(readSavedStudy(fashion, "fashion-mnist").results!.parts, ["heads", "temperature"]);
    const wrong = readSavedStudy(fashion, "mnist");
    assertEquals(wrong.results, undefined);
    assert(wrong.notes[0].includes("a study of fashion-mnist, not mnist"), wrong.notes[0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("savedStudyPath: MNIST's and Fashion-MNIST's committed studies; none for a folder", () => {
  assertEquals(savedStudyPath("/p", "mnist"), join("/p", "results", "ablation.json"));
  assertEquals(
    savedStudyPath("/p", "fashion-mnist"),
    join("/p", "results", "ablation-fashion-mnist.json"),
  );
  assertEquals(savedStudyPath("/p", "folder:/data/digits"), undefined);
});

Deno.test("labelCurveLines: the best SSL arm against strong supervised and self-training", () => {
  const arm = (v: number[]) => ({ test_accuracy: v });
  const p: LabelCurvePoint = {
    labels: 50,
    seconds: [1, 1],
    arms: {
      pixels_linear: arm([0.6, 0.62]),
      pixels_knn: arm([0.61, 0.63]),
      supervised_strong: arm([0.7, 0.72]),
      self_trained: arm([0.8, 0.7]),
      ssl_new_head: arm([0.75, 0.77]),
      ssl_distilled: arm([0.8, 0.82]),
    },
  };
  const [line] = labelCurveLines([p]);
  assertEquals(
    line,
    "**50 labels**: SSL + self-training, 81.0%: +10.0 points (more than the spread over seeds) " +
      "against strong supervised, +6.0 points (within the spread over seeds) against " +
      "self-training without SSL.",
  );
  // One seed: no spread to compare with.
  const one = labelCurveLines([point(10, 0.5)].map((q) => ({
    ...q,
    arms: Object.fromEntries(
      Object.entries(q.arms).map(([a, v]) => [a, { test_accuracy: v.test_accuracy.slice(0, 1) }]),
    ) as LabelCurvePoint["arms"],
  })))[0];
  assertEquals(
    one,
    "**10 labels**: SSL + self-training, 55.0%: +3.0 points against strong supervised, +2.0 " +
      "points against self-training without SSL.",
  );
});
