// Two local origins that reproduce what matters about how Forge hosts a Custom UI resource, so a
// browser test can catch CSP, path and MIME problems before a deploy:
//   - "CDN": serves the resource directory under a nested, CDN-like prefix
//     /<appUuid>/<envUuid>/<randomUuid>/main/ with the CSP header from @forge/csp (forge/csp.mjs),
//     prepends a bridge script to <head> like the real CDN does, and answers 403 outside the
//     prefix (so a bundle with absolute /pkg/... URLs breaks here as it would on Forge);
//   - "product": a host page that embeds the CDN URL in an iframe with Forge's sandbox and
//     allow attributes (Atlassian docs: developer.atlassian.com/platform/forge/custom-ui/iframe/).
// Both listen on 127.0.0.1 with ephemeral ports. No express: node:http is enough.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { load as cheerioLoad } from 'cheerio';
import { computeForgeCsp, loadManifest } from './csp.mjs';

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8'
};

const BRIDGE_PATH = '/__forge/global-bridge.js';
const REPORT_PATH = '/__forge/csp-report';
export const IFRAME_SANDBOX = 'allow-downloads allow-forms allow-modals allow-pointer-lock allow-same-origin allow-scripts';
export const IFRAME_ALLOW = 'camera; clipboard-write; display-capture; fullscreen; microphone';

// Real Forge prepends <script src="https://forge.cdn.prod.atlassian-dev.net/global-bridge.js"> as the
// first element of <head> (@forge/cli-shared BridgeScriptService, same cheerio approach); that host
// is unreachable here, so the stub comes from the CDN origin itself (allowed by script-src 'self').
function injectBridgeScript(html) {
  const $ = cheerioLoad(html, { xml: { xmlMode: false } });
  if ($('html').length === 0) throw new Error('Malformed HTML document: no <html> element');
  if ($('head').length === 0) $('html').prepend('<head></head>');
  $('head').prepend(`<script src="${BRIDGE_PATH}"></script>`);
  return $.html();
}

// A stub for the CSP test only: not the real bridge protocol, just the callBridge seam.
function bridgeStub(context) {
  return `// Forge bridge STUB (CSP harness): answers getContext, rejects everything else.
globalThis.__bridge = {
  callBridge(command, payload) {
    if (command === 'getContext') return Promise.resolve(structuredClone(${JSON.stringify(context)}));
    return Promise.reject(new Error('bridge stub: command "' + command + '" is not available in the CSP harness'));
  }
};
`;
}

function listen(server) {
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${server.address().port}`));
  });
}

/**
 * `resourceKey` is the manifest resource served (its name is in the CDN path); `extension` the
 * stub's `getContext().extension` (default: a Jira issue panel).
 * @param {{resourceDir: string, manifestPath?: string, resourceKey?: string, extension?: object}} opts
 * @returns {Promise<{productUrl: string, cdnUrl: string, cdnOrigin: string, manifest: any,
 *   cspReports: any[], close: () => Promise<void>}>}
 */
export async function startForgeLikeServers({ resourceDir, manifestPath, resourceKey = 'main', extension }) {
  const root = resolve(resourceDir);
  const manifest = loadManifest(manifestPath);
  const appUuid = manifest.app.id.split('/').pop();
  const envUuid = randomUUID();
  const prefix = `/${appUuid}/${envUuid}/${randomUUID()}/${resourceKey}/`;
  const cspReports = [];

  const product = createServer();
  const cdn = createServer();
  const productUrl = `${await listen(product)}/`;
  const productOrigin = new URL(productUrl).origin;
  const cdnOrigin = await listen(cdn);
  const cdnUrl = `${cdnOrigin}${prefix}`;

  const context = {
    accountId: '5b10ac8d82e05b22cc7d4ef5',
    cloudId: 'a436116f-02ce-4520-8fbb-7301462a1674',
    environmentId: envUuid,
    environmentType: 'DEVELOPMENT',
    localId: `ari:cloud:ecosystem::extension/${appUuid}/${envUuid}/static/team-tasks-issue-panel`,
    locale: 'en-US',
    moduleKey: 'team-tasks-issue-panel',
    siteUrl: productOrigin,
    timezone: 'UTC',
    extension: extension ?? {
      type: 'jira:issuePanel',
      issue: { id: '10000', key: 'KAN-1', type: 'Task', typeId: '10001' },
      project: { id: '10000', key: 'KAN', type: 'software' },
      isNewToIssue: false
    }
  };

  product.on('request', (req, res) => {
    if (new URL(req.url, productOrigin).pathname !== '/') return send(res, 404, 'text/plain', 'not found');
    send(res, 200, CONTENT_TYPES['.html'], `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Product host (Forge-like)</title><link rel="icon" href="data:,"></head>
<body>
  <iframe id="forge-app" title="Team Tasks" src="${cdnUrl}" sandbox="${IFRAME_SANDBOX}" allow="${IFRAME_ALLOW}"
          style="width: 100%; height: 600px; border: 0"></iframe>
</body></html>`);
  });

  cdn.on('request', async (req, res) => {
    try {
      const { pathname } = new URL(req.url, cdnOrigin);
      if (pathname === REPORT_PATH && req.method === 'POST') {
        let body = '';
        for await (const chunk of req) body += chunk;
        cspReports.push(JSON.parse(body || '{}'));
        return send(res, 204);
      }
      if (pathname === BRIDGE_PATH) return send(res, 200, CONTENT_TYPES['.js'], bridgeStub(context));
      // Like the real CDN: nothing outside the app/env/version prefix is served.
      if (!pathname.startsWith(prefix)) return send(res, 403, 'text/plain', 'Forbidden');
      const rel = decodeURIComponent(pathname.slice(prefix.length)) || 'index.html';
      const file = resolve(root, rel);
      if (file !== root && !file.startsWith(root + sep)) return send(res, 403, 'text/plain', 'Forbidden');
      const path = (await stat(file).catch(() => null))?.isDirectory() ? join(file, 'index.html') : file;
      const body = await readFile(path).catch(() => null);
      if (!body) return send(res, 404, 'text/plain', 'Not Found');
      const type = CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
      if (extname(path).toLowerCase() !== '.html') return send(res, 200, type, body);
      // HTML: the CSP is computed over the document as served (bridge script included), as the
      // Forge tunnel does; re-read on each request so a rebuilt bundle is picked up.
      const html = injectBridgeScript(body.toString('utf8'));
      const csp = computeForgeCsp({ manifest, indexHtml: html, siteUrl: productOrigin, reportUri: `${cdnOrigin}${REPORT_PATH}` });
      send(res, 200, type, html, { 'content-security-policy': csp });
    } catch (err) {
      send(res, 500, 'text/plain', String(err?.stack ?? err));
    }
  });

  const close = () => Promise.all([product, cdn].map((s) => new Promise((ok) => {
    s.closeAllConnections();
    s.close(() => ok());
  }))).then(() => {});

  return { productUrl, cdnUrl, cdnOrigin, manifest, cspReports, close };
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, {
    ...(type ? { 'content-type': type } : {}),
    'cache-control': 'no-store',
    // Strict MIME checks: a script or stylesheet served with a wrong type fails here, never sniffed.
    'x-content-type-options': 'nosniff',
    ...headers
  });
  res.end(body);
}
