/** tools/methods_lr_sweep.ts: each method's rate is the one best on the dev holdout. */
import { pickRates, type SweepRow, sweepSettings } from "../../tools/methods_lr_sweep.ts";
import { fullRecipe } from "../../lib/experiment/recipe.ts";
import { methodHead } from "../../lib/pipeline/defaults.ts";
import { fullMethodsPart } from "../../lib/study/methods_recipe.ts";
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

Deno.test("sweepSettings: the study's budget or the experiment's, with the head each uses", () => {
  const base = fullRecipe("mnist");
  const study = sweepSettings("study", "simclr", base);
  assertEquals(study.pretrain.batchSize, fullMethodsPart().pretrain.batchSize);
  assertEquals(study.pretrain.epochs, fullMethodsPart().pretrain.epochs);
  assertEquals(study.head, methodHead("simclr"));
  const exp = sweepSettings("experiment", "simclr", base);
  assertEquals(exp.pretrain.batchSize, base.pretrain.batchSize);
  assertEquals(exp.pretrain.epochs, base.pretrain.epochs);
  assertEquals(exp.pretrain.workers, base.pretrain.workers);
  assertEquals(exp.head, base.head); // the recipe's SimCLR head, as `deno task experiment` has it
  assertEquals(sweepSettings("experiment", "byol", base).head, methodHead("byol"));
  const short = sweepSettings("experiment", "simclr", base, 2);
  assertEquals(short.pretrain.epochs, 2);
  assertEquals(short.pretrain.lrDecay, 0.1); // falls tenfold over its 2 epochs, not over 8
  assertEquals(exp.pretrain.lrDecay, base.pretrain.lrDecay);
});
