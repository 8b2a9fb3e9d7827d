/**
 * The loopback server of the browser page (`web/`, `deno task serve`): the page itself, tfjs's
 * own browser build from the npm package in `node_modules/` (no CDN), the files of one exported
 * model (`deno task export`; only the files its manifest lists), and a reference set of images
 * with their labels — raw bytes (`/reference.bin`: `count × height × width × channels`, row-major,
 * channels last) and a JSON index (`/reference.json`: shape, labels, class names, paths).
 *
 * @example
 * ```ts
 * import { referenceSetOf, startPageServer } from "./server.ts";
 * const modelDir = "models/mnist"; // written by `deno task export` or `experiment --save-model`
 * const digits = {
 *   name: "four pixels", images: new Float32Array([0, 1, 1, 0]), labels: new Int32Array([0]),
 *   count: 1, height: 2, width: 2, channels: 1, classNames: ["a"],
 * };
 * const reference = referenceSetOf(digits, 100); // the first 100 images (here 1)
 * // const server = startPageServer({ modelDir, reference }); // http://127.0.0.1:<port>/
 * // ... then await server.shutdown();
 * ```
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ImageDataset } from "../../lib/data/dataset.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The page's own files. */
export const WEB_DIR: string = path.join(ROOT, "web");
/** tfjs's browser build (the npm package `@tensorflow/tfjs` of deno.json). */
export const TFJS_BUNDLE: string = path.join(
  ROOT,
  "node_modules/@tensorflow/tfjs/dist/tf.min.js",
);

/** A reference set as the page reads it. */
export interface ReferenceSet {
  /** Bytes 0..255, `count × height × width × channels`, channels last. */
  bytes: Uint8Array;
  index: {
    count: number;
    height: number;
    width: number;
    channels: number;
    /** Class index per image, -1 when unknown. */
    labels: number[];
    classNames: string[];
    /** Where each image came from (a file path, or `<dataset>:<i>`). */
    names: string[];
    /** Where the set came from, in words. */
    source: string;
  };
}

/** The first `count` images of `data` as a {@linkcode ReferenceSet}. */
export function referenceSetOf(
  data: ImageDataset,
  count: number,
  source = data.name,
): ReferenceSet {
  const n = Math.min(count, data.count);
  const size = data.height * data.width * data.channels;
  const bytes = new Uint8Array(n * size);
  for (let i = 0; i < bytes.length; i++) {
    const v = data.images[i];
    bytes[i] = v >= 1 ? 255 : v > 0 ? Math.round(v * 255) : 0;
  }
  return {
    bytes,
    index: {
      count: n,
      height: data.height,
      width: data.width,
      channels: data.channels,
      labels: Array.from(data.labels.subarray(0, n)),
      classNames: [...data.classNames],
      names: Array.from({ length: n }, (_, i) => data.paths?.[i] ?? `${source}:${i}`),
      source,
    },
  };
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".md": "text/markdown; charset=utf-8",
  ".bin": "application/octet-stream",
  ".png": "image/png",
};

function file(p: string): Response {
  return new Response(readFileSync(p), {
    headers: {
      "content-type": TYPES[path.extname(p)] ?? "application/octet-stream",
      "cache-control": "no-store",
    },
  });
}

/** Options of {@linkcode startPageServer}. */
export interface PageServerOptions {
  /** An exported model's folder. */
  modelDir: string;
  /** Images to search and classify among (optional: the page also takes dropped images). */
  reference?: ReferenceSet;
  /** Port (default 0: any free one). */
  port?: number;
  /** Interface (default 127.0.0.1: loopback only). */
  hostname?: string;
}

/** Starts the server; `url` is the page's address. */
export function startPageServer(options: PageServerOptions): {
  url: string;
  shutdown: () => Promise<void>;
} {
  if (!existsSync(TFJS_BUNDLE)) {
    throw new Error(
      `tfjs's browser build is missing (${TFJS_BUNDLE}); run "deno install" in the repository`,
    );
  }
  const manifest = JSON.parse(readFileSync(path.join(options.modelDir, "manifest.json"), "utf8"));
  const modelFiles = new Set<string>([
    "manifest.json",
    ...(manifest.files as { path: string }[]).map((f) => f.path),
  ]);
  const pageFiles = new Set(["index.html", "app.js", "knn.js", "style.css"]);
  const reference = options.reference;
  const server = Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    onListen: () => {},
  }, (request) => {
    const { pathname } = new URL(request.url);
    const name = decodeURIComponent(pathname);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed", { status: 405 });
    }
    if (name === "/") return file(path.join(WEB_DIR, "index.html"));
    if (pageFiles.has(name.slice(1))) return file(path.join(WEB_DIR, name.slice(1)));
    if (name === "/tfjs/tf.min.js") return file(TFJS_BUNDLE);
    if (name.startsWith("/model/") && modelFiles.has(name.slice("/model/".length))) {
      return file(path.join(options.modelDir, name.slice("/model/".length)));
    }
    if (name === "/reference.json") {
      return reference
        ? Response.json(reference.index, { headers: { "cache-control": "no-store" } })
        : new Response("no reference set", { status: 404 });
    }
    if (name === "/reference.bin" && reference) {
      return new Response(reference.bytes as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": "application/octet-stream", "cache-control": "no-store" },
      });
    }
    return new Response("not found", { status: 404 });
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `http://${addr.hostname}:${addr.port}/`,
    shutdown: () => server.shutdown(),
  };
}
