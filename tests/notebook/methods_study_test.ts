/** Notebook 9's helpers: its study from a configuration, the saved run read tolerantly, findings. */
import {
  methodsFindings,
  methodsFromJson,
  notebookMethodsStudy,
  readSavedMethods,
} from "../../lib/notebook/methods_study.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { fakeResults } from "../study/methods_fixtures.ts";

Deno.test("notebookMethodsStudy: the quick or full part on the configuration's seed and methods", () => {
  const base = { dataset: "mnist", labels: 100, seed: 3, quick: true };
  const quick = notebookMethodsStudy(base);
  assertEquals([quick.parts, quick.seeds, quick.methods.seeds, quick.labels], [
    ["methods"],
    [3],
    [3],
    100,
  ]);
  assertEquals(quick.methods.methods.length, 5);
  assertEquals(quick.quick, true);
  assertEquals(notebookMethodsStudy({ ...base, quick: false }).methods.finetune.steps, 300);
  assertEquals(notebookMethodsStudy({ ...base, methods: "simsiam" }).methods.methods, ["simsiam"]);
  assertThrows(
    () => notebookMethodsStudy({ ...base, methods: "moco" }),
    'configuration: methods: unknown method "moco"',
  );
  assertThrows(() => notebookMethodsStudy({ ...base, labels: 1 }), "labels must be an integer");
});

Deno.test("methodsFromJson / readSavedMethods: the part, or one note on why not", async () => {
  const methods = fakeResults();
  const file = { kind: "ablation", seeds: [0], date: "2026-12-07", methods };
  const ok = methodsFromJson(JSON.parse(JSON.stringify(file)));
  assertEquals(ok.notes, []);
  assertEquals(ok.results?.runs.length, methods.runs.length);
  assertEquals(ok.file?.date, "2026-12-07");
  assert(methodsFromJson({ kind: "experiment" }).notes[0].includes("not the results"));
  assert(methodsFromJson({ kind: "ablation" }).notes[0].includes("no `methods` part"));
  const broken = { ...file, methods: { ...methods, runs: [{ name: "x" }] } };
  assert(methodsFromJson(broken).notes[0].includes("shape this version does not know"));
  const dir = await Deno.makeTempDir();
  try {
    assertEquals(readSavedMethods(`${dir}/missing.json`), { notes: [] });
    await Deno.writeTextFile(`${dir}/bad.json`, "{");
    assert(readSavedMethods(`${dir}/bad.json`).notes[0].includes("is not valid JSON"));
    await Deno.writeTextFile(`${dir}/ok.json`, JSON.stringify(file));
    assertEquals(readSavedMethods(`${dir}/ok.json`).results?.seeds, [0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("methodsFindings: h against z, 90% on h, the collapse demos, the collapsed runs", () => {
  const lines = methodsFindings(fakeResults());
  assert(lines[0].startsWith("**h against z**"), lines[0]);
  assert(lines[0].includes("for 3 of 3 methods"), lines[0]);
  assertEquals(
    lines[1],
    "**Linear probe on h with the 200 labels ≥ 90%**: simclr; below: simsiam 88.0%, byol 86.0%.",
  );
  assert(
    lines[2].includes("SimSiam without its predictor**: uncentred RankMe of h / z 0.6 / 0.5"),
    lines[2],
  );
  assert(lines[2].includes("spread of z 0.02 (full 0.80)"), lines[2]);
  assert(lines[2].endsWith("collapsed."), lines[2]);
  assert(lines[4].includes("simsiam, mlp head, no predictor; byol, none head, no predictor"));
});

Deno.test("methodsFindings: the linear evaluation of h against 90%, when the runs have it", () => {
  const lines = methodsFindings(fakeResults(true));
  assertEquals(
    lines[1],
    "**Linear evaluation of h (a linear classifier trained with 20000 labelled pool images, the " +
      "SSL papers' protocol) ≥ 90%**: simclr, simsiam; below: byol 89.0%.",
  );
  assert(lines[2].startsWith("**Linear probe on h with the 200 labels ≥ 90%**"), lines[2]);
});
