// Builds the page into the Python package (actors/served/view/static): the bundle (esbuild),
// the HTML and CSS, and SOURCES.sha256, the hash of every source file here, which a test
// compares with these sources to catch a bundle that was not rebuilt.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const out = join(here, "..", "actors", "served", "view", "static");

function files(dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? files(p) : [p];
    });
}

// The same hash as tests/browser/test_bundle.py computes: sorted paths, each path, NUL, bytes, NUL.
export function sourcesHash() {
  const listed = [...files(join(here, "src")), ...["package.json", "package-lock.json", "build.mjs"].map((f) => join(here, f))]
    .map((p) => relative(here, p).split("\\").join("/"))
    .sort();
  const h = createHash("sha256");
  for (const rel of listed) {
    h.update(rel);
    h.update("\0");
    h.update(readFileSync(join(here, rel)));
    h.update("\0");
  }
  return h.digest("hex");
}

await build({
  entryPoints: [join(here, "src", "main.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome110", "firefox110", "safari16"],
  outfile: join(out, "app.js"),
  legalComments: "none",
});
copyFileSync(join(here, "src", "index.html"), join(out, "index.html"));
copyFileSync(join(here, "src", "style.css"), join(out, "style.css"));
writeFileSync(join(out, "SOURCES.sha256"), sourcesHash() + "\n");
console.log(`built ${relative(here, out)}`);
