#!/usr/bin/env node
// The Content-Security-Policy header that Forge serves with a Custom UI resource, computed by
// Atlassian's own @forge/csp (the oracle) rather than re-implemented here.
//
//   node forge/csp.mjs <resourceDir> [siteUrl]      (manifest: $MANIFEST_PATH or ../manifest.yml)
// The CLI hashes index.html as it is on disk; the <script src> that the CDN prepends adds no hash.
//
// Calls, in the order @forge/tunnel@7.1.0 (the Forge CLI's local resource server,
// out/servers/resource-tunnel-server.js) makes them:
//   1. new CSPProcessingService(logger, cheerio.load).getCspDetails(indexHtml, permissions)
//      - indexHtml: the resource's index.html text, as served (its inline <script>s are hashed
//        into script-src unless 'unsafe-inline' is declared);
//      - permissions: manifest `permissions`, with `external.fetch.client` entries of the form
//        {remote: key} / {address} replaced by the remote's baseUrl / the address, as the tunnel
//        does (getCspDetails only accepts strings there).
//   2. new CSPInjectionService().getInjectableCSP({existingCSPDetails, microsEnv: 'prod', hostname})
//      - existingCSPDetails: the result of step 1;
//      - microsEnv 'prod': the production Forge CDN hosts (forge.cdn.prod.atlassian-dev.net, ...);
//      - hostname: the site/product URL, e.g. https://<site>.atlassian.net (added to frame-ancestors,
//        connect-src, img-src, ...). Omitted when not given.
//      It returns the directives; they are joined with '; ' as the tunnel does.
// Only deviation, opt-in: `reportUri` replaces the report-uri directive, so a local test browser
// reports to a local server instead of Atlassian's (the tunnel's own tunnelCSPReporterUri option
// would also add ws://localhost:* and http://localhost:* to connect-src, i.e. loosen the policy).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load as cheerioLoad } from 'cheerio';

const require = createRequire(import.meta.url);
const { CSPInjectionService, CSPProcessingService } = require('@forge/csp');
const { ManifestParserBuilder } = require('@forge/manifest');

const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_MANIFEST_PATH = resolve(here, '../../manifest.yml');

/** Parses manifest.yml like the Forge CLI: `${VAR}` from process.env, else the variable's default. */
export function loadManifest(manifestPath = process.env.MANIFEST_PATH ?? DEFAULT_MANIFEST_PATH) {
  const filePath = resolve(manifestPath);
  const content = readFileSync(filePath, 'utf8');
  return new ManifestParserBuilder().withInterpolators().build().parseManifest({ content, filePath });
}

// fetch.client may name a remote ({remote: key}) or an egress object ({address}); the CSP wants URLs.
function withResolvedFetchClient(permissions = {}, remotes = []) {
  const client = permissions.external?.fetch?.client;
  if (!client) return permissions;
  const urls = client
    .map((c) => (typeof c === 'string' ? c : c.address ?? remotes.find((r) => r.key === c.remote)?.baseUrl))
    .filter((c) => typeof c === 'string');
  return { ...permissions, external: { ...permissions.external, fetch: { ...permissions.external.fetch, client: urls } } };
}

/**
 * @param {object} opts
 * @param {any} opts.manifest      parsed manifest (see loadManifest)
 * @param {string} opts.indexHtml  index.html exactly as it will be served
 * @param {string} [opts.siteUrl]  product origin, e.g. https://example.atlassian.net
 * @param {string} [opts.reportUri] replaces the report-uri directive (local testing only)
 * @returns {string} the Content-Security-Policy header value
 */
export function computeForgeCsp({ manifest, indexHtml, siteUrl, reportUri }) {
  const permissions = withResolvedFetchClient(manifest.permissions, manifest.remotes);
  const details = new CSPProcessingService({ info: () => {} }, cheerioLoad).getCspDetails(indexHtml, permissions);
  let directives = new CSPInjectionService().getInjectableCSP({
    existingCSPDetails: details,
    microsEnv: 'prod',
    hostname: siteUrl
  });
  if (reportUri) directives = directives.map((d) => (d.startsWith('report-uri ') ? `report-uri ${reportUri}` : d));
  return directives.join('; ');
}

/** The sources of one directive, e.g. directiveSources(csp, 'script-src'). */
export function directiveSources(csp, name) {
  const directive = csp.split(';').map((d) => d.trim().split(/\s+/)).find(([n]) => n === name);
  return directive ? directive.slice(1) : [];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [resourceDir, siteUrl] = process.argv.slice(2);
  if (!resourceDir) {
    console.error('usage: node forge/csp.mjs <resourceDir> [siteUrl]   (manifest: $MANIFEST_PATH or ../manifest.yml)');
    process.exit(2);
  }
  const indexHtml = readFileSync(join(resourceDir, 'index.html'), 'utf8');
  console.log(computeForgeCsp({ manifest: loadManifest(), indexHtml, siteUrl }));
}
