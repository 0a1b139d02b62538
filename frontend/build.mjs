// Bundles the card and the panel into the integration's frontend folder (committed, so HACS
// installs them as they are).
//   node build.mjs           write the bundles
//   node build.mjs --check   fail if the committed bundles differ from a fresh build
//   node build.mjs --tests   bundle test/*.test.ts for node's test runner into test-build/
import { build } from "esbuild";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "custom_components", "open_music_box", "frontend");
const bundles = { "card.js": "src/card/index.ts", "panel.js": "src/panel/index.ts" };
const mode = process.argv[2];

async function bundle(entry) {
  const result = await build({
    entryPoints: [join(here, entry)],
    bundle: true,
    format: "esm",
    target: "es2021",
    minify: true,
    legalComments: "none",
    // sendspin-js loads its Opus decoder on demand; the card asks for PCM only, never Opus.
    external: ["opus-encdec/*"],
    write: false,
    logLevel: "warning",
  });
  return result.outputFiles[0].contents;
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
  let stale = [];
  mkdirSync(out, { recursive: true });
  for (const [name, entry] of Object.entries(bundles)) {
    const fresh = await bundle(entry);
    const path = join(out, name);
    if (mode === "--check") {
      let committed = null;
      try {
        committed = readFileSync(path);
      } catch {
        committed = null;
      }
      if (committed === null || Buffer.compare(committed, Buffer.from(fresh)) !== 0) stale.push(name);
    } else {
      writeFileSync(path, fresh);
    }
    const kb = (bytes) => (bytes / 1024).toFixed(1);
    console.log(`${name}: ${kb(fresh.length)} KiB, ${kb(gzipSync(fresh).length)} KiB gzip`);
  }
  if (stale.length) {
    console.error(`Out of date: ${stale.join(", ")}. Run "npm run build" in frontend/ and commit.`);
    process.exit(1);
  }
}
