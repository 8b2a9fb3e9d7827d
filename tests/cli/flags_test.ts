import {
  type CommandSpec,
  HelpRequested,
  helpText,
  integerFlag,
  intList,
  listOf,
  nonNegativeInt,
  oneOf,
  parseFlags,
  parseWith,
  positiveNumber,
  UsageError,
} from "../../lib/cli/flags.ts";
import { asUsageError, runCommand, usageLine } from "../../lib/cli/main.ts";
import { outFlag } from "../../lib/cli/common_flags.ts";
import { parseHeadSetting } from "../../lib/models/heads/head_setting.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../assert.ts";

const SPEC = {
  name: "demo",
  usage: "deno run demo.ts [flags]",
  summary: "A demo command.",
  flags: {
    labels: { type: "string", value: "N", description: "labelled examples" },
    dataset: { type: "string", value: "NAME", default: "mnist", description: "the data" },
    quick: { type: "boolean", description: "smoke run" },
    out: { type: "string", short: "o", value: "FILE", description: "results" },
  },
} as const satisfies CommandSpec;

function usage(fn: () => unknown, ...parts: string[]): UsageError {
  const e = assertThrows(fn, ...parts);
  assert(e instanceof UsageError, `a UsageError, got ${e.name}`);
  return e;
}

Deno.test("parseFlags: values, defaults, = and short forms", () => {
  const v = parseFlags(SPEC, ["--labels", "200", "--quick", "-o", "r.json"]);
  assertEquals(v, { labels: "200", dataset: "mnist", quick: true, out: "r.json" });
  const w = parseFlags(SPEC, ["--dataset=fashion-mnist"]);
  assertEquals(w, { labels: undefined, dataset: "fashion-mnist", quick: false, out: undefined });
  // A negative number is a value (then refused by the typed helper), not a flag.
  assertEquals(parseFlags(SPEC, ["--labels", "-3"]).labels, "-3");
  assertEquals(parseFlags(SPEC, ["--labels", "-.5"]).labels, "-.5");
});

Deno.test("parseFlags: every mistake is a UsageError naming the flag, with the --help hint", () => {
  const cases: [string[], string][] = [
    [["--frobnicate"], "unknown flag --frobnicate"],
    [["-x"], "unknown flag -x"],
    [["--labels"], "--labels needs a value (N)"],
    [["--labels", "--quick"], '--labels needs a value (N), got the flag "--quick"'],
    [["--quick=yes"], '--quick takes no value, got "yes"'],
    [["--labels", "1", "--labels", "2"], "--labels is given more than once"],
    [["stray"], 'unexpected argument "stray"'],
    [["--constructor"], "unknown flag --constructor"],
  ];
  for (const [args, message] of cases) {
    const e = usage(() => parseFlags(SPEC, args), message);
    assert(e.helpHint, `${args.join(" ")}: hint`);
  }
});

Deno.test("parseFlags: --help and -h throw HelpRequested with every flag, even beside a mistake", () => {
  for (const args of [["--help"], ["-h"], ["--labels", "x", "--help"]]) {
    const e = assertThrows(() => parseFlags(SPEC, args));
    assert(e instanceof HelpRequested, args.join(" "));
    assertEquals(e.text, helpText(SPEC));
  }
  const text = helpText(SPEC);
  assert(text.startsWith("usage: deno run demo.ts [flags]\n\nA demo command."), text);
  for (const line of ["--labels N", "--dataset NAME", "(default mnist)", "-o, --out FILE"]) {
    assert(text.includes(line), `${line} in:\n${text}`);
  }
  assert(/-h, --help +show this help/.test(text), text);
});

Deno.test("typed helpers accept good values and name the flag on bad ones", () => {
  assertEquals(nonNegativeInt("labels", "0"), 0);
  assertEquals(nonNegativeInt("labels", "200"), 200);
  usage(() => nonNegativeInt("labels", "-3"), '--labels must be a non-negative integer, got "-3"');
  usage(() => nonNegativeInt("labels", "2.5"), "--labels");
  usage(() => nonNegativeInt("labels", ""), "--labels");
  assertEquals(integerFlag("epochs", "1", 1), 1);
  usage(() => integerFlag("epochs", "0", 1), '--epochs must be an integer >= 1, got "0"');
  assertEquals(positiveNumber("temperature", "0.2"), 0.2);
  for (const bad of ["-1", "0", "x", "Infinity", ""]) {
    usage(() => positiveNumber("temperature", bad), "--temperature must be a positive number");
  }
  assertEquals(intList("seeds", "0, 1,2"), [0, 1, 2]);
  for (const bad of ["0,,1", "0,-1", "a", ""]) usage(() => intList("seeds", bad), "--seeds");
  assertEquals(oneOf("backend", "cpu", ["wasm", "cpu"]), "cpu");
  usage(() => oneOf("backend", "gpu", ["wasm", "cpu"]), "--backend must be one of wasm, cpu");
  assertEquals(listOf("backends", "wasm,cpu", ["wasm", "cpu"]), ["wasm", "cpu"]);
  usage(() => listOf("backends", "wasm,tpu", ["wasm", "cpu"]), '"wasm,tpu"');
});

Deno.test("parseWith turns a RangeError into a usage error; other errors pass through", () => {
  assertEquals(parseWith("head", "mlp:32,16", parseHeadSetting), {
    kind: "mlp",
    hidden: [32],
    outputDim: 16,
  });
  usage(() => parseWith("head", "mlp:0", parseHeadSetting), '--head: head "mlp:0"');
  const e = assertThrows(() =>
    parseWith("x", "1", () => {
      throw new TypeError("a bug");
    })
  );
  assert(e instanceof TypeError && !(e instanceof UsageError));
});

Deno.test("outFlag refuses a file in a folder that does not exist", () => {
  assertEquals(outFlag("results.json"), "results.json");
  usage(() => outFlag("/no/such/folder/r.json"), "the folder /no/such/folder does not exist");
});

Deno.test("runCommand: help exit 0, usage error one line exit 2, a bug exit 1 with its stack", async () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
  };
  const a = io();
  assertEquals(await runCommand("demo", () => void parseFlags(SPEC, ["--help"]), a.io), 0);
  assertEquals(a.out, [helpText(SPEC)]);
  assertEquals(a.err, []);

  const b = io();
  assertEquals(await runCommand("demo", () => void parseFlags(SPEC, ["--nope"]), b.io), 2);
  assertEquals(b.err, ["demo: unknown flag --nope; run with --help for the flags"]);

  const c = io();
  const code = await runCommand("demo", () => {
    throw new UsageError("dataset x:\n  is empty");
  }, c.io);
  assertEquals([code, c.err], [2, ["demo: dataset x: is empty"]]);

  const d = io();
  assertEquals(
    await runCommand("demo", () => {
      throw new TypeError("cannot read x of undefined");
    }, d.io),
    1,
  );
  assertEquals(d.err.length, 1);
  assert(d.err[0].startsWith("demo: unexpected error\nTypeError: cannot read x"), d.err[0]);
  assert(/\n\s+at /.test(d.err[0]), "the stack is printed");

  assertEquals(await runCommand("demo", () => 3, io().io), 3);
  assertEquals(await runCommand("demo", () => {}, io().io), 0);
});

Deno.test("asUsageError wraps a failed user-input step, keeping the cause", async () => {
  const cause = new Error('image folder "/x" does not exist');
  const e = await assertRejects(() =>
    asUsageError(() => {
      throw cause;
    }, "--dataset")
  );
  assert(e instanceof UsageError);
  assertEquals(e.message, '--dataset: image folder "/x" does not exist');
  assertEquals(e.cause, cause);
  assertEquals(usageLine(e), '--dataset: image folder "/x" does not exist');
  assertEquals(await asUsageError(() => Promise.resolve(5)), 5);
});
