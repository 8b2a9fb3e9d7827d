import { backboneSettingText, parseBackboneSetting } from "../../lib/models/backbones.ts";
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

Deno.test("backbone settings: the modern CNN family, and the text form of every setting", () => {
  assertEquals(parseBackboneSetting("cnn"), { kind: "cnn" });
  assertEquals(parseBackboneSetting("cnn:8,16"), { kind: "cnn", channels: [8, 16] });
  assertEquals(parseBackboneSetting("cnn-wide"), { kind: "cnn", channels: [32, 64, 128] });
  for (
    const text of [
      "cnn",
      "cnn-wide",
      "cnn:8,16",
      "article",
      "article-wide",
      "article:8,8,16",
      "resnet",
      "resnet:8,2",
    ]
  ) {
    assertEquals(backboneSettingText(parseBackboneSetting(text)), text);
  }
  const f = buildBackbone({ kind: "cnn", channels: [8, 16] }, [28, 28, 1], 0);
  assertEquals(f.outputs[0].shape, [null, 16]);
  const classes = f.layers.map((l) => l.getClassName());
  f.dispose();
  assertEquals(classes.filter((c) => c === "SslBatchNorm").length, 2, classes.join());
  assertEquals(classes.at(-1), "GlobalAveragePooling2D");
  for (const bad of ["cnn:0", "cnn-wide:4", "cnn:a"]) {
    assertThrows(() => parseBackboneSetting(bad), `backbone "${bad}"`);
  }
  assertThrows(() => buildBackbone({ kind: "cnn", channels: [8, 8, 8, 8, 8] }, [28, 28, 1], 0));
});
