import { defineConfig } from "@playwright/test";

// Debian's Chromium (/usr/bin/chromium), never a downloaded browser: this machine reaches only
// package registries, so `npx playwright install` cannot work. The flags keep it from hanging on
// blocked background network calls.
export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  // Generous: CI shares 2 cores between the browser, the servers and the test runner.
  expect: { timeout: 10_000 },
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: { trace: "off" },
  projects: [
    {
      name: "chromium",
      use: {
        browserName: "chromium",
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
          ],
        },
      },
    },
  ],
});
