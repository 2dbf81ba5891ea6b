// Copy the published, minified builds named in FILES from node_modules into service/web/static/vendor/, with the
// licences beside them and manifest.json (package, version, licence, and each file's size and SHA-256).
// Run through ./vendor.sh (npm ci first), never by hand: the manifest is what tests/web/test_vendor.py checks.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const target = join(here, "..", "service", "web", "static", "vendor");

// What the pages load, and nothing else: [package, file in the package, name in the vendor folder].
const FILES = [
  ["@zazuko/yasqe", "build/yasqe.min.js", "yasqe.min.js"],
  ["@zazuko/yasqe", "build/yasqe.min.css", "yasqe.min.css"],
  ["@zazuko/yasr", "build/yasr.min.js", "yasr.min.js"],
  ["@zazuko/yasr", "build/yasr.min.css", "yasr.min.css"],
  ["d3", "dist/d3.min.js", "d3.min.js"],
  ["@observablehq/plot", "dist/plot.umd.min.js", "plot.umd.min.js"],
];

const LICENCE_FILE = /^(licen[cs]e|copying|notice)(\.(md|txt))?$/i;

function packageInfo(name) {
  const folder = join(modules, ...name.split("/"));
  return { folder, meta: JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) };
}

function licenceTexts(folder) {
  return readdirSync(folder).filter((entry) => LICENCE_FILE.test(entry)).sort()
    .map((entry) => readFileSync(join(folder, entry), "utf8").trim());
}

function sha256(path) {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

// A clean rebuild: whatever an earlier run copied and this one does not is gone.
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });

const packages = new Map();
for (const [name, source, destination] of FILES) {
  const { folder, meta } = packageInfo(name);
  copyFileSync(join(folder, source), join(target, destination));
  if (!packages.has(name)) {
    packages.set(name, { name, version: meta.version, license: meta.license, homepage: meta.homepage || null,
      licenseFile: null, files: [] });
  }
  const path = join(target, destination);
  packages.get(name).files.push({ name: destination, source, bytes: readFileSync(path).length, sha256: sha256(path) });
}

// Each package's licence beside its files: its own licence file, or (these packages publish none) its declared
// SPDX licence with the standard text kept in frontend/licenses/.
for (const entry of packages.values()) {
  const { folder, meta } = packageInfo(entry.name);
  let texts = licenceTexts(folder);
  if (texts.length === 0) {
    const standard = join(here, "licenses", `${meta.license}.txt`);
    if (!existsSync(standard)) throw new Error(`${entry.name} publishes no licence file and ${standard} is missing`);
    texts = [`${entry.name} ${meta.version} declares the licence ${meta.license} in its package.json ` +
      `(author: ${typeof meta.author === "string" ? meta.author : meta.author?.name ?? "not given"}; ` +
      `${meta.homepage ?? ""}) and publishes no licence file; the licence's text:\n\n` +
      readFileSync(standard, "utf8").trim()];
  }
  entry.licenseFile = `${entry.name.replace("@", "").replace("/", "-")}.LICENSE.txt`;
  writeFileSync(join(target, entry.licenseFile), texts.join("\n\n") + "\n");
}

// The builds bundle their dependencies: every installed package's licence, in one notices file.
const notices = [];
const seen = new Set();
function walk(dir) {
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith(".")) continue;
    const folder = join(dir, entry);
    if (entry.startsWith("@")) { walk(folder); continue; }
    if (!existsSync(join(folder, "package.json"))) continue;
    const meta = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
    const key = `${meta.name}@${meta.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const texts = licenceTexts(folder);
    notices.push(`== ${key} (${meta.license ?? "licence not declared"})\n\n` +
      (texts.length ? texts.join("\n\n") : "(the package publishes no licence file)"));
    if (existsSync(join(folder, "node_modules"))) walk(join(folder, "node_modules"));
  }
}
walk(modules);
writeFileSync(join(target, "THIRD-PARTY-NOTICES.txt"),
  "Licences of the npm packages installed to build the files in this folder (their dependencies are bundled " +
  "into the minified builds).\n\n" + notices.join("\n\n") + "\n");

const manifest = {
  comment: "Written by frontend/vendor.mjs (run frontend/vendor.sh); checked by tests/web/test_vendor.py.",
  packages: [...packages.values()],
};
writeFileSync(join(target, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`vendored ${FILES.length} files from ${packages.size} packages into ${target}`);
