import { test, expect } from "@playwright/test";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { validateManifest } from "../forge/validate-manifest.mjs";

// manifest.yml through Atlassian's own @forge/manifest, as `forge lint` (and so `forge deploy`)
// runs it. The remote's baseUrl is the manifest variable REMOTE_BASE_URL with no default: a
// deploy without it must fail, never ship a placeholder URL that admins would then have to
// approve a change away from.
const manifestPath = resolve(dirname(fileURLToPath(import.meta.url)), "../../manifest.yml");

async function withRemoteBaseUrl<T>(value: string | undefined, run: () => Promise<T>): Promise<T> {
  const saved = process.env.REMOTE_BASE_URL;
  if (value === undefined) delete process.env.REMOTE_BASE_URL;
  else process.env.REMOTE_BASE_URL = value;
  try {
    return await run();
  } finally {
    if (saved === undefined) delete process.env.REMOTE_BASE_URL;
    else process.env.REMOTE_BASE_URL = saved;
  }
}

test("without REMOTE_BASE_URL the manifest does not validate, so forge deploy fails", async () => {
  const problems = await withRemoteBaseUrl(undefined, () => validateManifest(manifestPath));
  const errors = problems.filter((p: { level: string }) => p.level === "error");
  expect(errors.map((e: { message: string }) => e.message).join("\n")).toContain(
    "could not find environment variable 'REMOTE_BASE_URL'",
  );
});

test("with REMOTE_BASE_URL it validates with no error and no warning", async () => {
  const problems = await withRemoteBaseUrl("https://tasks-remote.example.com", () =>
    validateManifest(manifestPath),
  );
  expect(problems).toEqual([]);
});
