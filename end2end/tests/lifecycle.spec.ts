import { test, expect, type FrameLocator, type Page } from "@playwright/test";
import { HOST, LocalForge } from "../support/local-forge.ts";

// A tenant's life through the local Forge host, which delivers lifecycle events, the
// pre-uninstall hook and the hourly trigger to the remote as Forge does.
const forge = new LocalForge();
test.beforeAll(async () => forge.start());
test.afterAll(async () => forge.stop());

const GLOBEX_CLOUD = "5e8f1a2b-3c4d-4e5f-9a0b-globex000002";

function app(page: Page): FrameLocator {
  return page.frameLocator("iframe.forge-frame");
}

async function lifecycle(site: string, action: string): Promise<any> {
  return forge.hostApi("POST", "/__devhost/api/lifecycle", { site, action });
}

test("the first use of a site delivers the installed event, and a retry changes nothing", async ({ page }) => {
  await page.goto(`${HOST}/site/globex/browse/GX-1`);
  await expect(app(page).getByRole("textbox", { name: "New task" })).toBeVisible();
  const installed = forge.remoteLog().filter((l) => l.fields?.message === "lifecycle event");
  expect(installed.map((l) => l.fields.event)).toContain("Installed");
  // Delivered again, as Forge retries: answered 2xx, well inside Forge's 5 s, and idempotent.
  const again = await lifecycle("globex", "install");
  expect(again.status).toBe(200);
  expect(again.body.change).toBe("unchanged");
  expect(again.attempts).toBe(1);
  expect(again.elapsedMs).toBeLessThan(5000);
  // The hourly trigger delivers a system token; the remote already holds a fresh one.
  const hourly = await lifecycle("globex", "scheduled");
  expect(hourly.status).toBe(200);
});

test("uninstall: the panel says the app is not installed, and a reinstall brings it back", async ({ page }) => {
  await page.goto(`${HOST}/site/globex/browse/GX-1`);
  const panel = app(page);
  const input = panel.getByRole("textbox", { name: "New task" });
  await input.fill("Kept through the retention period");
  await input.press("Enter");
  await expect(panel.getByTestId("task").filter({ hasText: "Kept through" })).toBeVisible();

  try {
    // The host bar's Uninstall delivers preUninstall and reloads the page.
    await page.getByTestId("uninstall-app").click();
    await expect(app(page).getByTestId("not-installed")).toContainText("not installed", { timeout: 15_000 });
    await expect(app(page).getByRole("button", { name: "Try again" })).toHaveCount(0);
    await expect(app(page).getByTestId("task")).toHaveCount(0);
  } finally {
    await lifecycle("globex", "install");
  }
  await page.reload();
  await expect(app(page).getByTestId("task").filter({ hasText: "Kept through" })).toBeVisible();
});

test("after a Jira outage the outbox writes the issue's progress once Jira is back", async ({ page }) => {
  await page.goto(`${HOST}/site/globex/browse/GX-1`);
  const panel = app(page);
  await expect(panel.getByRole("textbox", { name: "New task" })).toBeVisible();
  await forge.hostApi("DELETE", "/__devhost/api/rest-calls");
  await forge.hostApi("POST", "/__devhost/api/rest-outage", { down: true });
  const property = `/ex/jira/${GLOBEX_CLOUD}/rest/api/3/issue/20001/properties/tasks-progress`;
  try {
    const input = panel.getByRole("textbox", { name: "New task" });
    await input.fill("Written later");
    await input.press("Enter");
    await expect(panel.getByTestId("task-notice")).toContainText("retried");
    await panel.getByRole("checkbox", { name: "Written later" }).check();
    await expect(panel.getByTestId("progress-text")).toHaveText(/^1 of \d+ done$/);
  } finally {
    await forge.hostApi("POST", "/__devhost/api/rest-outage", { down: false });
  }
  const [done, total] = ((await panel.getByTestId("progress-text").textContent()) ?? "")
    .match(/\d+/g)!
    .map(Number);
  // No request is needed: the remote's worker retries with the system token it keeps.
  await expect
    .poll(
      async () => {
        const calls: any[] = (await forge.hostApi("GET", "/__devhost/api/rest-calls")) as any[];
        const ok = calls.filter((c) => c.method === "PUT" && c.path === property && c.status === 200);
        return ok.at(-1)?.body ?? null;
      },
      { timeout: 20_000 },
    )
    .toEqual({ done, total });
});
