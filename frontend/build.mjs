// Bundles the card and the panel into the integration's frontend folder (committed, so HACS
// installs them as they are).
//   node build.mjs           write the bundles
//   node build.mjs --check   fail if the committed bundles (chunks included) differ from a fresh
//                            build, or the folder holds a script the build does not make
//   node build.mjs --tests   bundle test/*.test.ts for node's test runner into test-build/
import { build } from "esbuild";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "custom_components", "open_music_box", "frontend");
// Built one by one: the card's chunks (what it imports on demand) are the card's alone.
const bundles = { card: "src/card/index.ts", panel: "src/panel/index.ts" };
const mode = process.argv[2];

/** Return the files of one entry: `<name>.js` and its chunks, by file name. */
async function bundle(name, entry) {
  const result = await build({
    entryPoints: { [name]: join(here, entry) },
    bundle: true,
    splitting: true,
    format: "esm",
    target: "es2021",
    minify: true,
    legalComments: "none",
    // The hash names a chunk's content: served with long caching, a changed one is a new file.
    chunkNames: "chunks/[name]-[hash]",
    outdir: out,
    // sendspin-js loads its Opus decoder on demand; the card asks for PCM only, never Opus.
    external: ["opus-encdec/*"],
    write: false,
    logLevel: "warning",
  });
  return result.outputFiles.map((file) => [relative(out, file.path), file.contents]);
}

if (mode === "--tests") {
  const target = join(here, "test-build");
  rmSync(target, { recursive: true, force: true });
  const tests = readdirSync(join(here, "test")).filter((name) => name.endsWith(".test.ts"));
  await build({
    entryPoints: tests.map((name) => join(here, "test", name)),
    bundle: true,
    platform: "node",
    format: "esm",
    outdir: target,
    outExtension: { ".js": ".mjs" },
    logLevel: "warning",
  });
} else {
  const stale = [];
  mkdirSync(join(out, "chunks"), { recursive: true });
  const made = new Set();
  const kb = (bytes) => (bytes / 1024).toFixed(1);
  for (const [name, entry] of Object.entries(bundles)) {
    for (const [file, fresh] of await bundle(name, entry)) {
      made.add(file);
      const path = join(out, file);
      if (mode === "--check") {
        let committed = null;
        try {
          committed = readFileSync(path);
        } catch {
          committed = null;
        }
        if (committed === null || Buffer.compare(committed, Buffer.from(fresh)) !== 0) stale.push(file);
      } else {
        writeFileSync(path, fresh);
      }
      console.log(`${file}: ${kb(fresh.length)} KiB, ${kb(gzipSync(fresh).length)} KiB gzip`);
    }
  }
  // Every script of the folder is served: one the build no longer makes (an old chunk) goes.
  const built = [...readdirSync(out), ...readdirSync(join(out, "chunks")).map((file) => join("chunks", file))];
  const extra = built.filter((file) => file.endsWith(".js") && !made.has(file));
  if (mode === "--check") {
    stale.push(...extra.map((file) => `${file} (not built any more)`));
  } else {
    for (const file of extra) rmSync(join(out, file));
  }
  if (stale.length) {
    console.error(`Out of date: ${stale.join(", ")}. Run "npm run build" in frontend/ and commit.`);
    process.exit(1);
  }
}
