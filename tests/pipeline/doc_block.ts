/**
 * Runs a code block of docs/api.md as written (the block after `<!-- name -->`), the way a reader
 * would paste it into a file at the repository's root: it must import only tfjs and `lib/mod.ts`,
 * and exit 0. Returns what it printed, for the test to check.
 */
import { assert } from "../assert.ts";

export async function runApiDocBlock(name: string): Promise<string> {
  const root = new URL("../../", import.meta.url);
  const doc = await Deno.readTextFile(new URL("docs/api.md", root));
  const block = new RegExp(`<!-- ${name} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(doc)?.[1];
  assert(block, `docs/api.md has the ${name} block`);
  const imports = [...block.matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
  assert(
    imports.every((i) => i === "@tensorflow/tfjs" || i === "./lib/mod.ts"),
    `only tfjs and lib/mod.ts are imported: ${imports}`,
  );
  const file = new URL(`.${name}-${Deno.pid}.ts`, root);
  await Deno.writeTextFile(file, block);
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-check=remote", file.pathname],
      cwd: root,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout);
    const err = new TextDecoder().decode(stderr);
    assert(code === 0, `exit ${code}: ${out}\n${err}`);
    return out;
  } finally {
    await Deno.remove(file);
  }
}
