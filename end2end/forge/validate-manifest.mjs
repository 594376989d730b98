#!/usr/bin/env node
// Validates a Forge manifest with Atlassian's own @forge/manifest, the way `forge lint` (and
// therefore `forge deploy`, which lints first) does, and exits non-zero on ANY error or warning.
//
//   node forge/validate-manifest.mjs [path/to/manifest.yml]     (default: ../manifest.yml)
//
// What `forge lint` runs on the manifest (@forge/lint@6.3.1 out/lint/lint.js, getClientSideLintersOnly;
// it pins @forge/manifest@13.7.0, the version installed here): five @forge/manifest processors, built with
// ProcessorBuilder.instance().withValidation(<type>).withOptions({deprecatedRuntimes}).build().process(path).
// We run the same five and report the union of their results. `forge lint` shows each processor's
// results filtered by `metadata` (only so that each problem is shown once and gets the right fixer);
// we instead show every result once, deduplicated, which is a superset.
//
// Not reproduced (they need Atlassian's network or app source code, neither of which applies here):
// `deprecatedRuntimes` is a remote Statsig config (we pass [] — the default when Statsig is unreachable),
// the server-side linter (Atlassian GraphQL), and the source-code linters (this app has no Forge functions).
//
// `${VAR}` manifest variables: the YAML step of every processor parses with
// ManifestParserBuilder().withInterpolators(), the same parser the Forge CLI uses
// (@forge/cli-shared config-file.js): value from process.env, else `environment.variables[].default`,
// else the error "missing environment variable". So nothing extra is done here: export the variable
// (e.g. REMOTE_BASE_URL) to validate another environment's value.
import { createRequire } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { ProcessorBuilder, ValidationTypes } = require('@forge/manifest');

const here = dirname(fileURLToPath(import.meta.url));
const manifestPath = resolve(process.argv[2] ?? resolve(here, '../../manifest.yml'));

// Same list and order as @forge/lint's manifest linters.
const TYPES = [
  ValidationTypes.PRODUCT_TRIGGER,
  ValidationTypes.AGENT_PRODUCT_CONTEXT,
  ValidationTypes.DEPRECATED_CSP_METHOD,
  ValidationTypes.FULL,
  ValidationTypes.DEPRECATED_EGRESS_PERMISSIONS
];

export async function validateManifest(path, { deprecatedRuntimes = [] } = {}) {
  const seen = new Map();
  for (const type of TYPES) {
    const processor = ProcessorBuilder.instance().withValidation(type).withOptions({ deprecatedRuntimes }).build();
    const result = await processor.process(path);
    for (const e of result.errors ?? []) {
      const key = `${e.level}|${e.line}|${e.column}|${e.message}`;
      if (!seen.has(key)) seen.set(key, { ...e, processor: type });
    }
  }
  return [...seen.values()].sort((a, b) => a.line - b.line || a.column - b.column);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = await validateManifest(manifestPath);
  const shown = relative(process.cwd(), manifestPath) || manifestPath;
  for (const p of problems) {
    const ref = p.reference ? ` [${p.reference}]` : '';
    console.error(`${shown}:${p.line}:${p.column}: ${p.level}: ${p.message}${ref}`);
  }
  const count = (lvl) => problems.filter((p) => p.level === lvl).length;
  const errors = count('error');
  const warnings = count('warning');
  const other = problems.length - errors - warnings;
  console.error(`${shown}: ${errors} error(s), ${warnings} warning(s)${other ? `, ${other} other` : ''}`);
  process.exit(problems.length ? 1 : 0);
}
