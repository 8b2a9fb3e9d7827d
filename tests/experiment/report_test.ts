import { bestOf, resultsTable, verdictLines } from "../../lib/experiment/report.ts";
import type { Arm } from "../../lib/experiment/arms.ts";
import { assert, assertEquals } from "../assert.ts";

const results = (acc: Partial<Record<Arm, number[]>>) => ({
  seeds: [0, 1],
  arms: Object.fromEntries(Object.entries(acc).map(([a, v]) => [a, { test_accuracy: v }])),
});

Deno.test("verdict: the best SSL arm against the best pixel baseline, and probe vs fine-tuning", () => {
  const beats = results({
    ssl_new_head: [0.9, 0.92],
    ssl_same_head: [0.88, 0.9],
    linear_probe: [0.8, 0.8],
    pixels_linear: [0.8, 0.81],
    pixels_knn: [0.8, 0.8],
  });
  assertEquals(bestOf(beats, ["pixels_linear", "pixels_knn"])?.arm, "pixels_linear");
  const [line, ...rest] = verdictLines(beats);
  assert(line.includes("ssl_new_head (91.0%)") && line.includes("beats"), line);
  assert(line.includes("by 10.5 points"), line);
  assertEquals(rest, [], "fine-tuning beats the probe: nothing more to say");

  const loses = results({
    ssl_new_head: [0.3, 0.3],
    linear_probe: [0.78, 0.76],
    pixels_knn: [0.9, 0.9],
  });
  const lines = verdictLines(loses);
  assert(lines[0].includes("does NOT beat") && lines[0].includes("pixels_knn (90.0%)"), lines[0]);
  assert(lines[1].includes("best arm here is linear_probe (77.0%"), lines[1]);
});

Deno.test("the table shows pixel baselines first and every arm's gap to the best of them", () => {
  const r = {
    ...results({ pixels_linear: [0.8, 0.8], pixels_knn: [0.7, 0.7], ssl_new_head: [0.9, 0.9] }),
    dataset: "mnist",
    labels: 200,
    quick: true,
  };
  // deno-lint-ignore no-explicit-any
  const table = resultsTable(r as any);
  const rows = table.split("\n").slice(2);
  assert(rows[0].startsWith("| pixels, linear classifier"), rows[0]);
  assert(rows[2].includes("SSL, head discarded") && rows[2].endsWith("| +10.0 points |"), rows[2]);
  assert(rows[0].endsWith("| — |"), "a pixel arm is not compared with itself");
});
