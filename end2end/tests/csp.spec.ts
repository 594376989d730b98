import { test, expect } from "@playwright/test";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startForgeLikeServers } from "../forge/cdn-server.mjs";
import { directiveSources } from "../forge/csp.mjs";

// Loads each built Custom UI resource the way Forge serves it (nested CDN path, @forge/csp's CSP
// header, sandboxed iframe on another origin) and fails on anything the browser refuses: the
// main resource (as an issue panel) and the macro's config view.
// RESOURCE_DIR / CONFIG_RESOURCE_DIR / MANIFEST_PATH override the defaults (relative to the
// current directory).
const end2end = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const manifestPath = resolve(process.env.MANIFEST_PATH ?? resolve(end2end, "../manifest.yml"));
const resources = [
  {
    key: "main",
    dir: resolve(process.env.RESOURCE_DIR ?? resolve(end2end, "../target/site")),
    extension: undefined,
    root: "app-root",
    heading: "Team Tasks",
  },
  {
    key: "config",
    dir: resolve(process.env.CONFIG_RESOURCE_DIR ?? resolve(end2end, "../target/site-config")),
    extension: { type: "macro", content: { id: "1", type: "page" }, space: { id: "2", key: "DS" }, config: { team: "Forge" } },
    root: "config-root",
    heading: "Team Tasks settings",
  },
];

for (const resource of resources) test.describe(`resource ${resource.key}`, () => {
  let servers: Awaited<ReturnType<typeof startForgeLikeServers>>;
  test.beforeAll(async () => {
    servers = await startForgeLikeServers({
      resourceDir: resource.dir,
      manifestPath,
      resourceKey: resource.key,
      extension: resource.extension,
    });
  });
  test.afterAll(async () => {
    await servers?.close();
  });

  test("resource renders under Forge's CSP in a sandboxed iframe", async ({ page }) => {
    const problems: string[] = [];
    let problemSeen!: () => void;
    const firstProblem = new Promise<void>((ok) => (problemSeen = ok));
    const report = (problem: string) => {
      problems.push(problem);
      problemSeen();
    };

    // Init scripts run in every frame before its own scripts, so violations raised while the wasm
    // module is compiled (script-src, blockedURI "wasm-eval") are seen; bindings reach all frames.
    await page.exposeBinding("__reportCspViolation", ({ frame }, v) =>
      report(`securitypolicyviolation in ${frame.url()}: ${v.effectiveDirective} blocked ${v.blockedURI}` +
        ` at ${v.sourceFile}:${v.lineNumber}${v.sample ? ` (${v.sample})` : ""}`));
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => {
        const { effectiveDirective, blockedURI, sourceFile, lineNumber, sample } = e;
        (window as any).__reportCspViolation({ effectiveDirective, blockedURI, sourceFile, lineNumber, sample });
      }, true);
    });
    page.on("console", (msg) => {
      if (msg.type() === "error") report(`console error (${msg.location().url}): ${msg.text()}`);
    });
    page.on("pageerror", (err) => report(`uncaught exception: ${err.stack ?? err.message}`));

    const documentResponse = page.waitForResponse(servers.cdnUrl);
    await page.goto(servers.productUrl);
    const response = await documentResponse;
    expect(response.status()).toBe(200);

    // The header comes from @forge/csp; only check that it follows the manifest.
    const csp = response.headers()["content-security-policy"] ?? "";
    const declaredScripts: string[] = servers.manifest.permissions?.content?.scripts ?? [];
    expect(directiveSources(csp, "script-src").includes("'unsafe-eval'"))
      .toBe(declaredScripts.includes("unsafe-eval"));
    expect(directiveSources(csp, "frame-ancestors")).toContain(new URL(servers.productUrl).origin);

    const root = page.frameLocator("#forge-app").locator(`[data-testid="${resource.root}"]`);
    // Wait for the app, but stop early once something has gone wrong...
    await Promise.race([root.waitFor({ timeout: 15_000 }).catch(() => {}), firstProblem]);
    // ...and give late reports (console messages, violations after mount) a moment to arrive.
    await page.waitForTimeout(500);

    expect(problems, "CSP violations, console errors and uncaught exceptions").toEqual([]);
    expect(servers.cspReports, "CSP reports received by report-uri").toEqual([]);
    await expect(root).toBeVisible();
    await expect(root.getByRole("heading", { name: resource.heading, exact: true })).toBeVisible();
  });
});
