import { test, expect } from "@playwright/test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The release remote (scripts/release.sh: `cargo build --release -p server`) must not contain the
// local Forge host: it would mint tokens the remote trusts. The server crate does not depend on
// the host (server/tests/release_deps.rs); here the binary itself: start it with every host
// variable set and probe.
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const binary = resolve(root, "target/release/server");
const REMOTE = "127.0.0.1:3290";
const HOST = "127.0.0.1:3291";
const CDN = "127.0.0.1:3292";

let server: ChildProcess;
let output = "";

test.beforeAll(async () => {
  expect(existsSync(binary), `${binary} (run scripts/release.sh)`).toBe(true);
  server = spawn(binary, [], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      FORGE_APP_ID: "ari:cloud:ecosystem::app/3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4",
      // Unreachable on purpose: nothing here needs a key.
      FORGE_JWKS_URL: "http://127.0.0.1:9/.well-known/jwks.json",
      LEPTOS_SITE_ADDR: REMOTE,
      TOKEN_ENCRYPTION_KEY: "dGVhbS10YXNrcy10ZXN0LXRva2VuLWtleS0zMmJ5dGU=",
      FORGE_DEV_HOST: "on",
      FORGE_DEV_HOST_ADDR: HOST,
      FORGE_DEV_CDN_ADDR: CDN,
    },
  });
  server.stdout?.on("data", (d) => (output += d));
  server.stderr?.on("data", (d) => (output += d));
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`http://${REMOTE}/healthz`);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`release server did not start:\n${output}`);
});

test.afterAll(() => {
  server?.kill("SIGTERM");
});

function refuses(addr: string): Promise<boolean> {
  const [host, port] = addr.split(":");
  return new Promise((done) => {
    const socket = connect({ host, port: Number(port) });
    socket.once("connect", () => { socket.destroy(); done(false); });
    socket.once("error", () => done(true));
  });
}

test("the release server binds no local host or CDN listener", async () => {
  expect(await refuses(HOST), `something listens on ${HOST}`).toBe(true);
  expect(await refuses(CDN), `something listens on ${CDN}`).toBe(true);
});

test("the release server answers none of the host's routes", async () => {
  const hostRoutes: [string, string][] = [
    ["GET", "/"],
    ["GET", "/.well-known/jwks.json"],
    ["POST", "/__devhost/api/fit"],
    ["POST", "/__devhost/api/invoke"],
    ["POST", "/__devhost/api/context"],
    ["GET", "/__devhost/host.js"],
    ["GET", "/__forge/global-bridge.js"],
    ["GET", "/site/acme/browse/TT-1"],
    ["GET", "/ex/jira/0b7d5c2a-1f3e-4a6b-8c9d-acme00000001/rest/api/3/issue/TT-1"],
  ];
  for (const [method, path] of hostRoutes) {
    const res = await fetch(`http://${REMOTE}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: method === "POST" ? "{}" : undefined,
    });
    const body = await res.text();
    expect([404, 405], `${method} ${path} -> ${res.status} ${body}`).toContain(res.status);
    expect(res.headers.get("content-type"), `${method} ${path}`).toContain("application/json");
    expect(body).not.toContain("keys");
  }
});

test("the release binary carries none of the host's code", () => {
  const bytes = readFileSync(binary);
  // Host routes, scripts and key ids, and `forge_fit::mint`'s signing (each is in forge-devhost).
  for (const marker of ["__devhost/api", "forge-bridge:call", "devhost-oauth-", "Local Forge host", "Failed to sign a token", "forge/invocation-token/dev-"]) {
    expect(bytes.includes(Buffer.from(marker)), `release binary contains "${marker}"`).toBe(false);
  }
});

test("the release server refuses to start without FORGE_APP_ID, and names it", () => {
  const run = spawnSync(binary, [], {
    cwd: root,
    env: { PATH: process.env.PATH, LEPTOS_SITE_ADDR: "127.0.0.1:3293" },
    timeout: 10_000,
    encoding: "utf8",
  });
  expect(run.status).toBe(2);
  expect(run.stderr).toContain("FORGE_APP_ID is not set");
});

test("the release server refuses to start without TOKEN_ENCRYPTION_KEY, and names it", () => {
  const run = spawnSync(binary, [], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      LEPTOS_SITE_ADDR: "127.0.0.1:3294",
      FORGE_APP_ID: "ari:cloud:ecosystem::app/3f1c9b52-7d44-4e0a-9a8e-51b2c6d0e7a4",
    },
    timeout: 10_000,
    encoding: "utf8",
  });
  expect(run.status).toBe(2);
  expect(run.stderr).toContain("TOKEN_ENCRYPTION_KEY is not set");
});
