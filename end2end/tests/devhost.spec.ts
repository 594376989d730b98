import { test, expect, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { resolve } from "node:path";
import { computeForgeCsp, loadManifest } from "../forge/csp.mjs";
import { APP_ID, CDN, HOST, LocalForge, root } from "../support/local-forge.ts";

// The local Forge host drives the real app the way Jira and Confluence do: product page,
// sandboxed iframe on a CDN origin with Forge's CSP, the bridge over postMessage, FITs the
// remote verifies, and an Atlassian REST stand-in.
const forge = new LocalForge();
test.beforeAll(async () => forge.start());
test.afterAll(async () => forge.stop());

const ACME_CLOUD = "0b7d5c2a-1f3e-4a6b-8c9d-acme00000001";
const ACME_INSTALLATION = "ari:cloud:ecosystem::installation/6a1f0c0e-31a2-4d7b-9c51-0e2f7a9b1c01";
const ALICE = "712020:0a1b2c3d-alice-4e5f-8a9b-000000000001";

/// Fails the test on any console error or uncaught exception, in any frame.
function watchForProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
  return problems;
}

/// `name -> sorted sources`, ignoring report-uri (the host reports locally, on purpose).
function directives(csp: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const d of csp.split(";").map((d) => d.trim()).filter(Boolean)) {
    const [name, ...sources] = d.split(/\s+/);
    if (name !== "report-uri") out[name] = sources.sort();
  }
  return out;
}

function verifiedFits() {
  return forge.remoteLog().filter((l) => l.fields?.message === "FIT verified");
}

test("the Jira issue view hosts the panel in a sandboxed iframe on a nested CDN path", async ({ page }) => {
  const problems = watchForProblems(page);
  const documentResponse = page.waitForResponse((r) => r.url().startsWith(CDN) && r.url().endsWith("/main/index.html"));
  await page.goto(`${HOST}/site/acme/browse/TT-1`);
  const res = await documentResponse;

  const appUuid = APP_ID.split("/").pop();
  expect(new URL(res.url()).pathname).toMatch(new RegExp(`^/${appUuid}/[0-9a-f-]{36}/[0-9a-f]{32}/main/index\\.html$`));
  const sandbox = (await page.locator("iframe.forge-frame").getAttribute("sandbox"))!.split(" ").sort();
  expect(sandbox).toEqual(["allow-downloads", "allow-forms", "allow-modals", "allow-pointer-lock", "allow-same-origin", "allow-scripts"]);

  // The bridge script comes first in <head>, as Forge's CDN prepends global-bridge.js.
  expect(await res.text()).toMatch(/<head[^>]*><script src="\/__forge\/global-bridge\.js"><\/script>/);

  // The same directives Atlassian's @forge/csp computes for this manifest and index.html.
  const indexHtml = readFileSync(resolve(root, "target/site/index.html"), "utf8");
  const expected = computeForgeCsp({ manifest: loadManifest(), indexHtml, siteUrl: HOST });
  expect(directives(res.headers()["content-security-policy"])).toEqual(directives(expected));

  const panel = page.frameLocator("iframe.forge-frame");
  await expect(panel.getByTestId("panel-issue-key")).toHaveText("TT-1");
  await expect(panel.getByTestId("panel-issue-summary")).toHaveText("Ship the Team Tasks panel");
  await expect(panel.getByTestId("panel-issue-status")).toHaveText("In Progress");
  expect(problems).toEqual([]);
});

test("the panel's bridge calls reach the remote with a verified FIT for its context", async ({ page }) => {
  await page.goto(`${HOST}/site/acme/browse/TT-1`);
  const panel = page.frameLocator("iframe.forge-frame");
  await expect(panel.getByTestId("panel-issue-summary")).toBeVisible();
  await expect(panel.getByTestId("empty").or(panel.getByTestId("task").first())).toBeVisible();

  const calls: { command: string; payload: any }[] = await page.evaluate(() => (window as any).__forgeHost.calls);
  const commands = calls.map((c) => c.command);
  expect(commands).toEqual(expect.arrayContaining(["enableTheming", "getContext", "invoke", "fetchRemote"]));
  const invoke = calls.find((c) => c.command === "invoke")!;
  expect(invoke.payload).toMatchObject({ path: "/issue", method: "GET", invokeType: "ui-remote-fetch" });
  const fetchRemote = calls.find((c) => c.command === "fetchRemote")!;
  expect(fetchRemote.payload).toMatchObject({ remoteKey: "team-tasks-remote", fetchRequestInit: { path: "/tasks", method: "GET", body: null } });

  // The remote's log: both calls verified, with the panel's module, site, user and issue.
  await expect.poll(() => verifiedFits().length).toBeGreaterThanOrEqual(2);
  for (const line of verifiedFits().slice(-2)) {
    expect(line.fields).toMatchObject({
      module: "team-tasks-issue-panel",
      environment: "DEVELOPMENT",
      cloud_id: ACME_CLOUD,
      extension: "jira:issuePanel issue=10001 (TT-1)",
    });
    expect(line.span).toMatchObject({ installation: ACME_INSTALLATION, principal: ALICE });
    expect(line.span.trace_id ?? "").not.toBe(undefined);
  }
  // invokeRemote carried Forge's trace id; requestRemote (sent by the page) carries none.
  const traced = verifiedFits().filter((l) => l.span.path === "/issue");
  expect(traced.at(-1).span.trace_id).toMatch(/^[0-9a-f]{32}$/);

  // The header was read from the REST stand-in with the user's token.
  const rest: any[] = (await forge.hostApi("GET", "/__devhost/api/rest-calls")) as any[];
  expect(rest).toContainEqual(expect.objectContaining({
    method: "GET", path: `/ex/jira/${ACME_CLOUD}/rest/api/3/issue/10001`, token: "user", accountId: ALICE, status: 200,
  }));
});

test("the Confluence page hosts the macro with its saved configuration, edited in its config view", async ({ page }) => {
  const problems = watchForProblems(page);
  await page.goto(`${HOST}/site/acme/wiki/pages/65537`);
  const macro = page.frameLocator("iframe.forge-frame");
  await expect(macro.getByTestId("team-name")).toHaveText("Team: Forge");

  // The Edit action opens the config resource in a dialog, served like the macro's resource.
  const configResponse = page.waitForResponse((r) => r.url().startsWith(CDN) && r.url().endsWith("/config/index.html"));
  await page.getByRole("button", { name: "Edit Team Tasks macro" }).click();
  const res = await configResponse;
  expect(await res.text()).toMatch(/<head[^>]*><script src="\/__forge\/global-bridge\.js"><\/script>/);
  const indexHtml = readFileSync(resolve(root, "target/site-config/index.html"), "utf8");
  const expected = computeForgeCsp({ manifest: loadManifest(), indexHtml, siteUrl: HOST });
  expect(directives(res.headers()["content-security-policy"])).toEqual(directives(expected));

  // Saving there re-renders the macro with the new context.
  const settings = page.frameLocator("iframe.forge-config-frame");
  await settings.getByRole("textbox", { name: "Team", exact: true }).fill("Platform");
  await settings.getByRole("button", { name: "Save" }).click();
  await expect(macro.getByTestId("team-name")).toHaveText("Team: Platform");

  const context = await macro.locator("body").evaluate(() => (globalThis as any).__bridge.callBridge("getContext"));
  expect(context.extension).toMatchObject({ type: "macro", content: { id: "65537", type: "page" }, space: { key: "ENG" }, config: { team: "Platform" } });
  await expect.poll(() => verifiedFits().some((l) => l.fields.extension === "macro content=65537" && l.fields.module === "team-tasks-macro")).toBe(true);
  expect(problems).toEqual([]);
});

test("dark mode reaches the app through enableTheming", async ({ page }) => {
  await page.goto(`${HOST}/site/acme/browse/TT-1?theme=dark`);
  const panel = page.frameLocator("iframe.forge-frame");
  await expect(panel.locator("html")).toHaveAttribute("data-color-mode", "dark");
  await expect(panel.getByTestId("app-root")).toBeVisible();
  const background = await panel.locator("body").evaluate((b) => getComputedStyle(b.ownerDocument.documentElement).getPropertyValue("--ds-surface").trim());
  expect(background).toBe("#1d2125");
});

test("the CDN refuses absolute paths, as Forge's does", async () => {
  const res = await fetch(`${CDN}/pkg/team-tasks.js`);
  expect(res.status).toBe(403);
});

test("the REST stand-in accepts only tokens the host forwarded, for their own site", async () => {
  const res = await fetch(`${HOST}/ex/jira/${ACME_CLOUD}/rest/api/3/issue/10001`, { headers: { authorization: "Bearer made-up" } });
  expect(res.status).toBe(401);
});

/** The status of GET `path` on `origin` sent with this exact Host header (DNS rebinding). */
function statusWithHost(origin: string, path: string, host: string): Promise<number> {
  const { hostname, port } = new URL(origin);
  return new Promise((done, fail) => {
    const req = httpRequest({ hostname, port, path, headers: { host } }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on("error", fail);
    req.end();
  });
}

test("the host and the CDN answer only requests addressed to their own loopback address", async () => {
  const hostPort = new URL(HOST).port;
  expect(await statusWithHost(HOST, "/.well-known/jwks.json", `127.0.0.1:${hostPort}`)).toBe(200);
  expect(await statusWithHost(HOST, "/.well-known/jwks.json", `localhost:${hostPort}`)).toBe(200);
  // A page on another name that resolves to 127.0.0.1 still sends its own name.
  expect(await statusWithHost(HOST, "/.well-known/jwks.json", `rebind.example:${hostPort}`)).toBe(421);
  expect(await statusWithHost(HOST, "/site/acme/browse/TT-1", "evil.example")).toBe(421);
  expect(await statusWithHost(CDN, "/", `rebind.example:${new URL(CDN).port}`)).toBe(421);
});

test("navigate and open accept only http and https URLs", async ({ page }) => {
  await page.goto(`${HOST}/site/acme/browse/TT-1`);
  const panel = page.frameLocator("iframe.forge-frame");
  await expect(panel.getByTestId("app-root")).toBeVisible();
  for (const [url, type] of [
    ["javascript:document.title='pwned'", "same-tab"],
    ["javascript:alert(1)", "new-tab"],
    ["data:text/html,<script>alert(1)</script>", "same-tab"],
  ]) {
    const outcome = await panel
      .locator("body")
      .evaluate(
        (_, [u, t]) =>
          (globalThis as any).__bridge.callBridge("navigate", { url: u, type: t }).then(
            () => "resolved",
            (e: Error) => `rejected: ${e.message}`,
          ),
        [url, type],
      );
    expect(outcome, url).toContain("rejected");
  }
  expect(await page.title()).not.toBe("pwned");
  expect(page.url()).toContain("/site/acme/browse/TT-1");
});
