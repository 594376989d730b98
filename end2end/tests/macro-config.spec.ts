import { test, expect, type FrameLocator, type Page } from "@playwright/test";
import { HOST, LocalForge } from "../support/local-forge.ts";

// The Confluence macro's own config view (manifest `macro[].config.resource`), through the local
// Forge host as Confluence opens it: on insert and from the macro's Edit action, in a dialog
// holding the `config` resource in its own sandboxed iframe, saving with view.submit({config}).
//
// The tests run in order on one host: the first inserts the macro on Acme's OPS page, and the
// others edit that macro.
const forge = new LocalForge();
test.beforeAll(async () => forge.start());
test.afterAll(async () => forge.stop());
test.describe.configure({ mode: "serial" });

const OPS_PAGE = `${HOST}/site/acme/wiki/pages/65541`; // space OPS, starts without the macro
const ENG_PAGE = `${HOST}/site/acme/wiki/pages/65537`; // space ENG, macro set to team Forge

const macro = (page: Page): FrameLocator => page.frameLocator("iframe.forge-frame");
const configView = (page: Page): FrameLocator => page.frameLocator("iframe.forge-config-frame");
const dialog = (page: Page) => page.getByRole("dialog", { name: "Team Tasks settings" });
const teamField = (page: Page) => configView(page).getByRole("textbox", { name: "Team", exact: true });

type Call = { command: string; payload: any; view: "module" | "config" };
const hostCalls = (page: Page): Promise<Call[]> => page.evaluate(() => (window as any).__forgeHost.calls);
const submits = (page: Page): Promise<any[]> => page.evaluate(() => (window as any).__forgeHost.submits);

function task(frame: FrameLocator, title: string) {
  return frame.getByTestId("task").filter({ hasText: title });
}

async function addTask(frame: FrameLocator, title: string) {
  const input = frame.getByRole("textbox", { name: "New task" });
  await input.fill(title);
  await input.press("Enter");
  await expect(task(frame, title)).toBeVisible();
}

/// Opens the macro's settings with its Edit action and saves `team` with the Save button.
async function chooseTeam(page: Page, team: string) {
  await page.getByRole("button", { name: "Edit Team Tasks macro" }).click();
  await expect(dialog(page)).toBeVisible();
  await teamField(page).fill(team);
  await configView(page).getByRole("button", { name: "Save" }).click();
  await expect(dialog(page)).toHaveCount(0);
  await expect(macro(page).getByTestId("team-name")).toHaveText(`Team: ${team.trim()}`);
}

test("inserting the macro opens its config; without a team it lists nothing and offers to choose one", async ({ page }) => {
  await page.goto(OPS_PAGE);
  await expect(page.getByTestId("space-key")).toHaveText("OPS");
  await expect(page.locator("iframe.forge-frame")).toHaveCount(0);
  await page.getByRole("button", { name: "Insert Team Tasks macro" }).click();

  // openOnInsert: the config view opens at once, keyboard focus in its field.
  await expect(dialog(page)).toBeVisible();
  await expect(teamField(page)).toBeFocused();
  await expect(teamField(page)).toHaveValue("");
  // Its own resource, under the same CDN path scheme and sandbox as the macro's.
  const src = new URL((await page.locator("iframe.forge-config-frame").getAttribute("src"))!);
  const mainSrc = new URL((await page.locator("iframe.forge-frame").getAttribute("src"))!);
  expect(src.origin).toBe(mainSrc.origin);
  expect(src.pathname).toBe(mainSrc.pathname.replace(/\/main\/index\.html$/, "/config/index.html"));
  expect(await page.locator("iframe.forge-config-frame").getAttribute("sandbox"))
    .toBe(await page.locator("iframe.forge-frame").getAttribute("sandbox"));

  // Closed without saving: the macro is on the page with no team, and says so.
  await dialog(page).getByRole("button", { name: "Close" }).click();
  await expect(dialog(page)).toHaveCount(0);
  await expect(macro(page).getByText("No team chosen yet.")).toBeVisible();
  await expect(macro(page).getByRole("textbox", { name: "New task" })).toHaveCount(0);

  // Where the host cannot open the config view, the macro says how to reach it.
  await page.evaluate(() => ((window as any).__forgeHost.refuse = ["open"]));
  await macro(page).getByRole("button", { name: "Choose a team" }).click();
  await expect(macro(page).getByTestId("open-error")).toHaveText(
    "Cannot open the settings here: edit the page, select the macro, choose Edit.",
  );
  await expect(dialog(page)).toHaveCount(0);

  // Otherwise the button opens it with view.open().
  await page.evaluate(() => ((window as any).__forgeHost.refuse = []));
  await macro(page).getByRole("button", { name: "Choose a team" }).click();
  await expect(dialog(page)).toBeVisible();
  await teamField(page).fill("  Ops crew ");
  await configView(page).getByRole("button", { name: "Save" }).click();
  await expect(dialog(page)).toHaveCount(0);
  await expect(macro(page).getByTestId("team-name")).toHaveText("Team: Ops crew");
  expect(await submits(page)).toEqual([{ config: { team: "Ops crew" } }]);
  await addTask(macro(page), "Rotate the keys");

  const calls = await hostCalls(page);
  // Both clicks sent view.open() from the macro: callBridge("open"), no payload.
  expect(calls.filter((c) => c.command === "open").map((c) => [c.view, c.payload ?? "none"])).toEqual([
    ["module", "none"],
    ["module", "none"],
  ]);
  // Nothing asked the remote for a list before the macro had a team: every list read names one.
  const reads = calls.filter((c) => c.command === "fetchRemote");
  expect(reads.length).toBeGreaterThan(0);
  const firstRead = calls.indexOf(reads[0]);
  expect(calls.findIndex((c) => c.command === "submit")).toBeLessThan(firstRead);

  // The saved config is the macro's context now, and stays across a reload.
  const context = await macro(page).locator("body").evaluate(() => (globalThis as any).__bridge.callBridge("getContext"));
  expect(context.extension).toMatchObject({ type: "macro", space: { id: "98306", key: "OPS" }, config: { team: "Ops crew" } });
  await page.reload();
  await expect(macro(page).getByTestId("team-name")).toHaveText("Team: Ops crew");
  await expect(task(macro(page), "Rotate the keys")).toBeVisible();
});

test("editing the config switches the macro to the other team's list", async ({ page }) => {
  await page.goto(OPS_PAGE);
  await expect(task(macro(page), "Rotate the keys")).toBeVisible();
  await page.getByRole("button", { name: "Edit Team Tasks macro" }).click();
  await expect(teamField(page)).toHaveValue("Ops crew");
  await teamField(page).fill("Ops night shift");
  await teamField(page).press("Enter");
  await expect(dialog(page)).toHaveCount(0);
  await expect(macro(page).getByTestId("team-name")).toHaveText("Team: Ops night shift");
  await expect(macro(page).getByTestId("empty")).toBeVisible();
  await expect(task(macro(page), "Rotate the keys")).toHaveCount(0);
  await addTask(macro(page), "Night checks");

  // Back to the first team: its list again, without the other's task.
  await chooseTeam(page, "Ops crew");
  await expect(task(macro(page), "Rotate the keys")).toBeVisible();
  await expect(task(macro(page), "Night checks")).toHaveCount(0);
});

test("the same team name in another space is another list", async ({ page }) => {
  await page.goto(OPS_PAGE);
  await chooseTeam(page, "Forge");
  await expect(macro(page).getByTestId("empty")).toBeVisible();
  await addTask(macro(page), "OPS Forge task");

  await page.goto(ENG_PAGE);
  await expect(page.getByTestId("space-key")).toHaveText("ENG");
  await expect(macro(page).getByTestId("team-name")).toHaveText("Team: Forge");
  await expect(macro(page).getByTestId("empty")).toBeVisible();
  await expect(task(macro(page), "OPS Forge task")).toHaveCount(0);
  await addTask(macro(page), "ENG Forge task");

  await page.goto(OPS_PAGE);
  await expect(task(macro(page), "OPS Forge task")).toBeVisible();
  await expect(task(macro(page), "ENG Forge task")).toHaveCount(0);
});

test("the config view works with the keyboard alone", async ({ page }) => {
  await page.goto(OPS_PAGE);
  const edit = page.getByRole("button", { name: "Edit Team Tasks macro" });
  await expect(macro(page).getByTestId("team-name")).toBeVisible();
  await edit.focus();
  await page.keyboard.press("Enter");
  await expect(dialog(page)).toBeVisible();
  await expect(teamField(page)).toBeFocused();

  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.type("Keyboard crew");
  // The label names the field; Tab reaches Save, Shift+Tab comes back.
  await page.keyboard.press("Tab");
  await expect(configView(page).getByRole("button", { name: "Save" })).toBeFocused();
  await page.keyboard.press("Shift+Tab");
  await expect(teamField(page)).toBeFocused();
  await page.keyboard.press("Enter");

  await expect(dialog(page)).toHaveCount(0);
  await expect(macro(page).getByTestId("team-name")).toHaveText("Team: Keyboard crew");
  // Focus returns to the action that opened the dialog.
  await expect(edit).toBeFocused();
});

test("an invalid team is refused in place and nothing is submitted; a refused submit says so", async ({ page }) => {
  await page.goto(OPS_PAGE);
  await expect(macro(page).getByTestId("team-name")).toHaveText("Team: Keyboard crew");
  await page.getByRole("button", { name: "Edit Team Tasks macro" }).click();
  const field = teamField(page);
  const error = configView(page).getByTestId("team-error");
  await expect(field).toHaveAttribute("aria-invalid", "false");

  await field.fill("   ");
  await field.press("Enter");
  await expect(error).toHaveText("Enter a team name.");
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await expect(field).toHaveAttribute("aria-describedby", /(^| )tt-team-error( |$)/);
  await expect(field).toHaveAccessibleDescription(/Enter a team name\./);

  await field.fill("x".repeat(101));
  await configView(page).getByRole("button", { name: "Save" }).click();
  await expect(error).toHaveText("The team name is 101 characters long; the limit is 100.");
  await expect(field).toBeFocused();
  await expect(dialog(page)).toBeVisible();
  const fromConfig = (await hostCalls(page)).filter((c) => c.view === "config").map((c) => c.command);
  expect(fromConfig).not.toContain("submit");

  // A host that refuses the submit: the view shows why, and stays open.
  await page.evaluate(() => ((window as any).__forgeHost.refuse = ["submit"]));
  await field.fill("Refused crew");
  await field.press("Enter");
  await expect(configView(page).getByTestId("submit-error")).toHaveText(
    "The team could not be saved: this resource's view is not submittable.",
  );
  await expect(error).toHaveCount(0);
  await expect(dialog(page)).toBeVisible();
  await page.evaluate(() => ((window as any).__forgeHost.refuse = []));

  // 100 characters, once trimmed, is the limit and is saved.
  const hundred = "y".repeat(100);
  await field.fill(`  ${hundred}  `);
  await field.press("Enter");
  await expect(dialog(page)).toHaveCount(0);
  await expect(macro(page).getByTestId("team-name")).toHaveText(`Team: ${hundred}`);
  expect((await submits(page)).at(-1)).toEqual({ config: { team: hundred } });
});

test("only a config view can submit, and only a macro can open one", async ({ page }) => {
  await page.goto(ENG_PAGE);
  await expect(macro(page).getByTestId("team-name")).toHaveText("Team: Forge");
  const call = (frame: FrameLocator, command: string, payload?: unknown) =>
    frame.locator("body").evaluate(
      (_body, [command, payload]) => (globalThis as any).__bridge.callBridge(command, payload),
      [command, payload] as const,
    );
  // The macro's own view is not submittable: its config stays as it was.
  expect(await call(macro(page), "submit", { config: { team: "Hijack" } })).toBe(false);
  await page.reload();
  await expect(macro(page).getByTestId("team-name")).toHaveText("Team: Forge");

  // A config view cannot open another.
  await page.getByRole("button", { name: "Edit Team Tasks macro" }).click();
  await expect(teamField(page)).toHaveValue("Forge");
  expect(await call(configView(page), "open")).toBe(false);

  // Nor can a Jira issue panel, which has no config view.
  await page.goto(`${HOST}/site/acme/browse/TT-1`);
  await expect(page.frameLocator("iframe.forge-frame").getByTestId("app-root")).toBeVisible();
  expect(await call(page.frameLocator("iframe.forge-frame"), "open")).toBe(false);
  expect(await call(page.frameLocator("iframe.forge-frame"), "submit", { config: {} })).toBe(false);
});
