/** `--method` on the experiment and the ablation: parsed, listed by --help, one line when wrong. */
import { ABLATION_COMMAND } from "../../bin/ablation.ts";
import { EXPERIMENT_COMMAND, parseExperimentArgs } from "../../bin/experiment.ts";
import { methodFlag } from "../../lib/cli/common_flags.ts";
import { helpText, UsageError } from "../../lib/cli/flags.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

Deno.test("--method: the five methods, simclr by default, one line naming them otherwise", () => {
  assertEquals(methodFlag("barlow"), "barlow");
  assertEquals(parseExperimentArgs([]).method, "simclr");
  assertEquals(parseExperimentArgs(["--method", "byol"]).method, "byol");
  const err = assertThrows(
    () => parseExperimentArgs(["--method", "moco"]),
    '--method must be one of simclr, byol, simsiam, barlow, vicreg, got "moco"',
  );
  assert(err instanceof UsageError && !err.message.includes("\n"));
  assertThrows(
    () => parseExperimentArgs(["--method", "vicreg", "--temperature", "0.5"]),
    "--temperature is NT-Xent's, which only --method simclr uses, not vicreg",
  );
  assertEquals(parseExperimentArgs(["--temperature", "0.5"]).temperature, 0.5);
});

Deno.test("--help of the experiment and the ablation lists --method and the methods", () => {
  for (const spec of [EXPERIMENT_COMMAND, ABLATION_COMMAND]) {
    const help = helpText(spec);
    assert(/--method NAME\s+self-supervised method/.test(help), help);
    assert(help.includes("simclr, byol, simsiam, barlow, vicreg"), help);
    assert(help.includes("(default simclr)"), help);
  }
});

Deno.test("--pretrain-lr: a positive number, none by default (the recipe's rate), one line otherwise", () => {
  assertEquals(parseExperimentArgs([]).pretrainLr, undefined);
  assertEquals(parseExperimentArgs(["--pretrain-lr", "0.003"]).pretrainLr, 0.003);
  for (const bad of ["0", "-1", "fast"]) {
    const err = assertThrows(
      () => parseExperimentArgs(["--pretrain-lr", bad]),
      "--pretrain-lr must be a positive number",
    );
    assert(err instanceof UsageError && !err.message.includes("\n"));
  }
  assert(/--pretrain-lr R\s+pre-training's learning rate/.test(helpText(EXPERIMENT_COMMAND)));
});

Deno.test("--finetune-steps and --student-batch: whole numbers >= 1, none by default, one line otherwise", () => {
  const none = parseExperimentArgs([]);
  assertEquals([none.finetuneSteps, none.studentBatch], [undefined, undefined]);
  const set = parseExperimentArgs(["--finetune-steps", "1500", "--student-batch", "256"]);
  assertEquals([set.finetuneSteps, set.studentBatch], [1500, 256]);
  for (const [flag, bad] of [["--finetune-steps", "0"], ["--student-batch", "2.5"]]) {
    const err = assertThrows(
      () => parseExperimentArgs([flag, bad]),
      `${flag} must be an integer >= 1`,
    );
    assert(err instanceof UsageError && !err.message.includes("\n"));
  }
  const help = helpText(EXPERIMENT_COMMAND);
  assert(/--finetune-steps N\s+optimiser steps of every fine-tuned arm/.test(help));
  assert(/--student-batch N\s+unlabelled images per step/.test(help));
});

Deno.test("--pretrain-augment: a preset with two views, none by default (the data's), one line otherwise", () => {
  assertEquals(parseExperimentArgs([]).pretrainAugment, undefined);
  assertEquals(parseExperimentArgs(["--pretrain-augment", "stroke"]).pretrainAugment, "stroke");
  for (const bad of ["none", "affine", "strokes"]) {
    const err = assertThrows(
      () => parseExperimentArgs(["--pretrain-augment", bad]),
      "--pretrain-augment must be one of stroke, crop, crop-flip, colour, digits",
    );
    assert(err instanceof UsageError && !err.message.includes("\n"));
  }
});
