import { parseBackboneSetting } from "../../lib/models/backbones.ts";
import { buildBackbone } from "../../lib/models/backbones.ts";
import { assertEquals, assertThrows } from "../assert.ts";

Deno.test("backbone settings: the text forms, and a clear error for a bad one", () => {
  assertEquals(parseBackboneSetting("article"), { kind: "article" });
  assertEquals(parseBackboneSetting("article:8,16,32"), { kind: "article", channels: [8, 16, 32] });
  assertEquals(parseBackboneSetting("resnet"), { kind: "resnet", width: 16, depth: 3 });
  assertEquals(parseBackboneSetting("ResNet:8,2"), { kind: "resnet", width: 8, depth: 2 });
  const wide = parseBackboneSetting("article-wide");
  const f = buildBackbone(wide, [28, 28, 1], 0);
  const params = f.countParams();
  f.dispose();
  assertEquals(params > 80_000 && params < 100_000, true, `about 93k parameters: ${params}`);
  for (const bad of ["vgg", "article:8,16", "article:0,1,2", "resnet:1,2,3", "article-wide:4"]) {
    assertThrows(() => parseBackboneSetting(bad), `backbone "${bad}"`);
  }
});
