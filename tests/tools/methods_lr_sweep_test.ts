/** tools/methods_lr_sweep.ts: each method's rate is the one best on the dev holdout. */
import { pickRates, type SweepRow } from "../../tools/methods_lr_sweep.ts";
import { assertEquals } from "../assert.ts";

const row = (method: SweepRow["method"], lr: number, dev: number, test: number): SweepRow => ({
  method,
  learning_rate: lr,
  linear_eval_h: { dev, test },
  final_loss: 0,
  seconds: 1,
});

Deno.test("pickRates: best dev accuracy per method, the test set chooses nothing, ties smaller", () => {
  const rows = [
    row("simclr", 0.001, 0.91, 0.90),
    row("simclr", 0.01, 0.89, 0.95), // better on test, worse on dev: not chosen
    row("byol", 0.001, 0.80, 0.80),
    row("byol", 0.003, 0.88, 0.87),
    row("byol", 0.01, 0.88, 0.89), // a tie on dev: the smaller rate
    row("simsiam", 0.01, 0.9, 0.9),
  ];
  assertEquals(pickRates(rows), { simclr: 0.001, byol: 0.003, simsiam: 0.01 });
  assertEquals(pickRates([]), {});
});
