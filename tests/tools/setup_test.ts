/**
 * The machine set-up's decisions, with the probes and the commands injected: nothing here
 * installs anything or looks at this machine.
 */
import { type MachineFacts, planSetup } from "../../tools/setup/plan.ts";
import { ensureMachine, SetupStopped } from "../../tools/setup/machine.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";

const READY: MachineFacts = {
  nbconvert: true,
  jupyterClient: true,
  nbclientIpykernel: true,
  notebook: true,
  chromium: true,
  denoKernel: "ok",
  nodeModules: true,
  aptGet: true,
  root: false,
  sudo: false,
};

const BARE: MachineFacts = {
  ...READY,
  nbconvert: false,
  jupyterClient: false,
  nbclientIpykernel: false,
  notebook: false,
  chromium: false,
  denoKernel: "missing",
};

const ALL_PACKAGES = [
  "jupyter-nbconvert",
  "jupyter-client",
  "python3-nbclient",
  "python3-ipykernel",
  "jupyter-notebook",
  "chromium",
];

Deno.test("planSetup: a ready machine needs nothing", () => {
  for (const purpose of ["test", "notebooks"] as const) {
    const plan = planSetup(purpose, READY);
    assertEquals(
      [plan.missing, plan.apt, plan.kernel, plan.depsInstall, plan.stop, plan.notes],
      [[], [], false, false, undefined, []],
    );
  }
});

Deno.test("planSetup: as root on a bare Debian machine, the tests get every package and the kernel", () => {
  const plan = planSetup("test", { ...BARE, root: true });
  assertEquals(plan.apt, ALL_PACKAGES);
  assertEquals(plan.aptGet, ["apt-get"]);
  assertEquals(plan.kernel, "install");
  assertEquals(plan.stop, undefined);
  // With passwordless sudo instead of root, the same packages through sudo.
  const sudo = planSetup("test", { ...BARE, sudo: true });
  assertEquals([sudo.apt, sudo.aptGet], [ALL_PACKAGES, ["sudo", "-n", "apt-get"]]);
});

Deno.test("planSetup: the notebooks need Jupyter; Notebook never, Chromium only when wanted", () => {
  const plan = planSetup("notebooks", { ...BARE, root: true });
  assertEquals(plan.apt, [
    "jupyter-nbconvert",
    "jupyter-client",
    "python3-nbclient",
    "python3-ipykernel",
    "chromium",
  ]);
  const noBrowser = planSetup("notebooks", { ...BARE, root: true }, { browser: false });
  assert(!noBrowser.apt.includes("chromium"), "--no-browser: no Chromium");
  // Only what is missing is installed.
  const partial = planSetup("test", { ...READY, root: true, chromium: false, notebook: false });
  assertEquals(partial.apt, ["jupyter-notebook", "chromium"]);
  assertEquals(partial.kernel, false);
});

Deno.test("planSetup: without root or sudo it stops with the one apt-get command", () => {
  const plan = planSetup("test", { ...READY, nbconvert: false, chromium: false });
  assertEquals(plan.apt, []);
  assert(plan.stop !== undefined, "stops");
  assert(
    plan.stop.includes("sudo apt-get update && sudo apt-get install -y jupyter-nbconvert chromium"),
    plan.stop,
  );
  assert(plan.stop.includes("Jupyter nbconvert, Chromium"), plan.stop);
  assert(plan.stop.includes("SSL_SKIP_SETUP=1"), plan.stop);
});

Deno.test("planSetup: for the notebooks a missing Chromium is only a note when apt-get cannot run", () => {
  const plan = planSetup("notebooks", { ...READY, chromium: false });
  assertEquals([plan.stop, plan.apt], [undefined, []]);
  assertEquals(plan.notes.length, 1);
  assert(plan.notes[0].includes("sudo apt-get install -y chromium"), plan.notes[0]);
  // But missing Jupyter stops them, and the command also brings Chromium.
  const stop = planSetup("notebooks", { ...READY, chromium: false, nbclientIpykernel: false });
  assert(
    stop.stop?.includes("sudo apt-get install -y python3-nbclient python3-ipykernel chromium"),
    stop.stop,
  );
});

Deno.test("planSetup: no apt-get (not Debian) names pip and Chromium", () => {
  const plan = planSetup("test", { ...BARE, aptGet: false, root: true });
  assertEquals(plan.apt, []);
  assert(plan.stop?.includes("no apt-get"), plan.stop);
  assert(plan.stop?.includes("python3 -m pip install nbconvert"), plan.stop);
  assert(plan.stop?.includes("and Chromium"), plan.stop);
});

Deno.test("planSetup: the kernel is registered when missing, forced when stale; deno install without node_modules", () => {
  assertEquals(planSetup("notebooks", { ...READY, denoKernel: "missing" }).kernel, "install");
  assertEquals(planSetup("notebooks", { ...READY, denoKernel: "stale" }).kernel, "force");
  assertEquals(planSetup("test", { ...READY, nodeModules: false }).depsInstall, true);
});

/** A machine that becomes READY once the fake commands have run. */
function fakeMachine(before: MachineFacts, codes: Record<string, number> = {}) {
  const ran: string[][] = [];
  const logs: string[] = [];
  let facts = before;
  return {
    ran,
    logs,
    options: {
      skip: false,
      deno: "/opt/deno",
      root: "/repo",
      probe: () => Promise.resolve(facts),
      exec: (cmd: string[]) => {
        ran.push(cmd);
        const code = codes[cmd.join(" ")] ?? 0;
        if (code === 0 && cmd.includes("install")) facts = READY;
        return Promise.resolve(code);
      },
      log: (s: string) => logs.push(s),
    },
  };
}

Deno.test("ensureMachine: installs with apt-get, then registers the kernel with the running Deno", async () => {
  const m = fakeMachine({ ...BARE, root: true, nodeModules: false });
  const plan = await ensureMachine("test", m.options);
  assertEquals(plan?.apt, ALL_PACKAGES);
  assertEquals(m.ran, [
    ["apt-get", "update", "-qq"],
    ["apt-get", "install", "-y", "-qq", ...ALL_PACKAGES],
    ["/opt/deno", "install"],
    ["/opt/deno", "jupyter", "--install"],
  ]);
  assert(m.logs[0].includes("installing jupyter-nbconvert"), m.logs[0]);
  assertEquals(m.logs.at(-1), "setup: done");
});

Deno.test("ensureMachine: sudo runs apt-get non-interactively; a stale kernel is forced", async () => {
  const m = fakeMachine({ ...READY, sudo: true, chromium: false, denoKernel: "stale" });
  await ensureMachine("test", m.options);
  assertEquals(m.ran, [
    ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "update", "-qq"],
    [
      "sudo",
      "-n",
      "env",
      "DEBIAN_FRONTEND=noninteractive",
      "apt-get",
      "install",
      "-y",
      "-qq",
      "chromium",
    ],
    ["/opt/deno", "jupyter", "--install", "--force"],
  ]);
});

Deno.test("ensureMachine: nothing to do runs nothing; skip and dry-run run nothing", async () => {
  const ready = fakeMachine(READY);
  await ensureMachine("test", ready.options);
  assertEquals([ready.ran, ready.logs], [[], []]);
  const skipped = fakeMachine(BARE);
  assertEquals(await ensureMachine("test", { ...skipped.options, skip: true }), undefined);
  assertEquals(skipped.ran, []);
  const dry = fakeMachine({ ...BARE, root: true });
  await ensureMachine("test", { ...dry.options, dryRun: true });
  assertEquals(dry.ran, []);
  assert(dry.logs.some((l) => l.includes("would run apt-get install -y -qq jupyter-nbconvert")));
});

Deno.test("ensureMachine: stops with the command when it cannot install, or when apt-get fails", async () => {
  const m = fakeMachine(BARE);
  const e = await assertRejects(() => ensureMachine("test", m.options), "sudo apt-get install -y");
  assert(e instanceof SetupStopped);
  assertEquals(m.ran, []);
  const failing = fakeMachine({ ...BARE, root: true }, { "apt-get update -qq": 100 });
  await assertRejects(
    () => ensureMachine("test", failing.options),
    "`apt-get update -qq` failed (exit 100)",
    "sudo apt-get install -y jupyter-nbconvert",
  );
  assertEquals(failing.ran.length, 1, "stops at the failed step");
});

Deno.test("ensureMachine: a package that is still missing after apt-get is reported", async () => {
  const m = fakeMachine({ ...BARE, root: true });
  m.options.exec = (cmd: string[]) => {
    m.ran.push(cmd);
    return Promise.resolve(0); // "succeeds" but installs nothing
  };
  await assertRejects(
    () => ensureMachine("notebooks", m.options),
    "still missing after the set-up: Jupyter nbconvert",
    "the Deno Jupyter kernel",
  );
});
