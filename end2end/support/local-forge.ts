// Starts the app the way the tests need it: the local Forge host in one process, and the remote
// in another, so a test can stop or restart the remote while the "Atlassian" side stays up,
// exactly as on Cloud. Both are the debug `forge-devhost` binary (`cargo build -p forge-devhost`):
// the host with its own remote beside it, and with FORGE_DEV_HOST=off the remote alone, which is
// the `server` library booted as the `server` binary boots it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const binary = resolve(root, "target/debug/forge-devhost");

// Ports apart from `cargo leptos watch`'s (3000, 3100, 3101), so both can run at once.
export const HOST = "http://127.0.0.1:3300";
export const CDN = "http://127.0.0.1:3301";
export const REMOTE = "http://127.0.0.1:3200";
const HOST_OWN_REMOTE = "127.0.0.1:3390";

export const APP_ID = /^\s*id:\s*(ari:cloud:ecosystem::app\/\S+)/m.exec(
  readFileSync(resolve(root, "manifest.yml"), "utf8"),
)![1];

class Proc {
  log = "";
  constructor(readonly child: ChildProcess) {
    child.stdout?.on("data", (d) => (this.log += d));
    child.stderr?.on("data", (d) => (this.log += d));
  }
  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((done) => {
      this.child.once("exit", () => done());
      this.child.kill("SIGTERM");
    });
  }
}

async function waitFor(url: string, proc: Proc, what: string) {
  for (let i = 0; i < 300; i++) {
    if (proc.child.exitCode !== null) throw new Error(`${what} exited:\n${proc.log}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer ${url}:\n${proc.log}`);
}

export class LocalForge {
  host?: Proc;
  remote?: Proc;
  readonly dataDir = mkdtempSync(join(tmpdir(), "team-tasks-e2e-"));
  /// A fresh database per LocalForge: SQLite here, or PostgreSQL when E2E_DATABASE_URL is set.
  readonly databaseUrl = process.env.E2E_DATABASE_URL ?? `sqlite://${this.dataDir}/tasks.db`;

  async start() {
    this.host = new Proc(
      spawn(binary, [], {
        cwd: root,
        env: {
          ...process.env,
          RUST_LOG: "info",
          LEPTOS_SITE_ADDR: HOST_OWN_REMOTE,
          DATABASE_URL: `sqlite://${this.dataDir}/host-own.db`,
          FORGE_DEV_HOST: "on",
          FORGE_DEV_HOST_ADDR: HOST.slice("http://".length),
          FORGE_DEV_CDN_ADDR: CDN.slice("http://".length),
          FORGE_DEV_REMOTE_URL: REMOTE,
        },
      }),
    );
    await waitFor(`${HOST}/.well-known/jwks.json`, this.host, "local Forge host");
    await this.startRemote();
  }

  /// The remote alone, trusting only the host's keys, as it would trust Atlassian's.
  async startRemote() {
    this.remote = new Proc(
      spawn(binary, [], {
        cwd: root,
        env: {
          ...process.env,
          RUST_LOG: "info",
          // One JSON object per line, so tests can read what the remote verified.
          LOG_FORMAT: "json",
          FORGE_DEV_HOST: "off",
          FORGE_APP_ID: APP_ID,
          FORGE_JWKS_URL: `${HOST}/.well-known/jwks.json`,
          FORGE_CORS_ORIGINS: `https://*.atlassian.net,${HOST}`,
          // The host's REST stand-in is the FITs' apiBaseUrl: the forwarded tokens may go there.
          FORGE_API_HOSTS: HOST.slice("http://".length),
          // The remote seals the system tokens it keeps with this (32 bytes, base64).
          TOKEN_ENCRYPTION_KEY: "ZTJlLXRlc3RzLXRva2VuLWVuY3J5cHRpb24ta2V5MzI=",
          LEPTOS_SITE_ADDR: REMOTE.slice("http://".length),
          DATABASE_URL: this.databaseUrl,
        },
      }),
    );
    await waitFor(`${REMOTE}/healthz`, this.remote, "remote");
  }

  /// The remote's log lines, parsed (non-JSON lines are skipped).
  remoteLog(): any[] {
    return (this.remote?.log ?? "")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
  }

  async stopRemote() {
    await this.remote?.stop();
  }

  async stop() {
    await this.remote?.stop();
    await this.host?.stop();
  }

  /// Calls the host's test API (REST stand-in records, outage switch).
  async hostApi(method: string, path: string, body?: unknown) {
    const res = await fetch(`${HOST}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return res.status === 204 ? null : res.json();
  }
}
