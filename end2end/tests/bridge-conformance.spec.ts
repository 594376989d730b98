// Conformance of the Rust Forge bridge shim (crates/forge-bridge) with the real @forge/bridge.
//
// Both run in one Chromium page against the same recording `globalThis.__bridge`
// (end2end/bridge/recorder.js, installed before either loads). Each scenario scripts the host's
// replies, makes the same call through both, and asserts:
//   - identical callBridge calls: command, argument count and payload (as structuredClone, i.e.
//     postMessage, would deliver it: `undefined`-valued keys are kept and compared, key order
//     is not);
//   - identical decoded results, at the level both expose (invokeRemote: {status, headers,
//     body}; requestRemote: status, statusText, header entries and body text of the Response);
//   - identical errors: @forge/bridge's message equals the shim's message, and the shim's
//     error kind is the one the scenario expects.
//
// BRIDGE_CONFORMANCE_DEBUG=1 prints both sides of every scenario.
//
// Assets come from end2end/bridge/build-harness.sh (run here unless
// BRIDGE_HARNESS_SKIP_BUILD=1): the harness wasm and a browser bundle of the pinned
// @forge/bridge, both under target/bridge-conformance/.
import { test, expect, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const end2end = resolve(here, "..");
const supportDir = join(end2end, "bridge");
const buildDir = resolve(end2end, "..", "target", "bridge-conformance");

const REMOTE_KEY = "team-tasks-remote"; // app::functions::REMOTE_KEY

type Reply = { resolve: unknown } | { reject: string };
type Op =
  | "invokeRemote"
  | "requestRemote"
  | "getContext"
  | "enableTheming"
  | "showAndCloseFlag"
  | "navigate"
  | "open"
  | "reload"
  | "submit"
  | "submitConfig"
  | "viewOpen";

interface Scenario {
  name: string;
  op: Op;
  args: unknown[];
  replies: Reply[];
  /** The shim's error kind when both sides fail. */
  errorKind?: string;
}

interface Run {
  calls: { command: string; argc: number; payload: unknown }[];
  result: { ok?: unknown; error?: { message: string; kind?: string } };
  unusedReplies: number;
}

const json = { "content-type": ["application/json"] };

const invokeOk = (status: number, body?: unknown, headers: object = json): Reply => ({
  resolve: { success: true, payload: body === undefined ? { status, headers } : { status, headers, body } },
});

const rejectWith = (message: string): Reply => ({ reject: message });

const issuePanelContext = {
  accountId: "5b10ac8d82e05b22cc7d4ef5",
  cloudId: "a436116f-02ce-4520-8fbb-7301462a1674",
  extension: {
    type: "jira:issuePanel",
    issue: { id: "10000", key: "KAN-1", type: "Task", typeId: "10001" },
    project: { id: "10000", key: "KAN", type: "software" },
    isNewToIssue: false,
    location: "https://example.atlassian.net/browse/KAN-1",
  },
  environmentId: "d0c5e7a1-0000-4000-8000-00000000de71",
  environmentType: "DEVELOPMENT",
  localId: "ari:cloud:ecosystem::extension/app/env/static/team-tasks-panel",
  locale: "en_US",
  moduleKey: "team-tasks-panel",
  siteUrl: "https://example.atlassian.net",
  timezone: "Europe/London",
  theme: { colorMode: "dark" },
  userAccess: { enabled: false },
};

const macroContext = {
  cloudId: "a436116f-02ce-4520-8fbb-7301462a1674",
  extension: {
    type: "macro",
    content: { id: "65601", type: "page", subtype: null },
    space: { id: "65538", key: "DS" },
    isEditing: false,
    references: [],
    config: { team: "platform", columns: ["todo", "done"], limit: 5 },
  },
  environmentId: "d0c5e7a1-0000-4000-8000-00000000de71",
  environmentType: "PRODUCTION",
  localId: "ari:cloud:ecosystem::extension/app/env/static/team-tasks-macro",
  locale: "pt",
  moduleKey: "team-tasks-macro",
  siteUrl: "https://example.atlassian.net",
  timezone: "America/Sao_Paulo",
};

/**
 * Context fields the typed shim leaves out (each decoded field costs wasm); dropped from
 * @forge/bridge's result before comparing.
 */
const UNMODELLED_CONTEXT_KEYS = ["environmentId", "userAccess"];
const UNMODELLED_EXTENSION_KEYS = ["location", "references"];

const scenarios: Scenario[] = [
  // invokeRemote
  {
    name: "invokeRemote GET, 2xx with array headers",
    op: "invokeRemote",
    args: [{ path: "/whoami", method: "GET" }],
    replies: [
      invokeOk(200, { accountId: "a1", displayName: "Ada" }, {
        "content-type": ["application/json"],
        "x-multi": ["a", "b"],
        "x-b3-traceid": ["abc"],
      }),
    ],
  },
  {
    name: "invokeRemote POST with headers and body, 201",
    op: "invokeRemote",
    args: [{ path: "/tasks", method: "POST", headers: { "x-trace": "t1" }, body: { title: "Write tests", done: false, tags: ["a"], n: 1.5 } }],
    replies: [invokeOk(201, { id: 7, title: "Write tests" })],
  },
  {
    name: "invokeRemote 2xx without body",
    op: "invokeRemote",
    args: [{ path: "/tasks/7", method: "DELETE" }],
    replies: [invokeOk(204, undefined, {})],
  },
  {
    name: "invokeRemote 4xx with JSON, as payload",
    op: "invokeRemote",
    args: [{ path: "/tasks/9", method: "GET" }],
    replies: [invokeOk(404, { code: "not_found", message: "no task 9" })],
  },
  {
    name: "invokeRemote 4xx with JSON, as error object",
    op: "invokeRemote",
    args: [{ path: "/tasks/9", method: "PATCH", body: { done: true } }],
    replies: [{ resolve: { success: false, error: { status: 403, headers: json, body: { code: "forbidden", message: "not yours" } } } }],
  },
  {
    name: "invokeRemote 401 rejection",
    op: "invokeRemote",
    args: [{ path: "/whoami", method: "GET" }],
    replies: [rejectWith("Remote could not verify the Forge Invocation Token")],
    errorKind: "fit_not_verified",
  },
  {
    name: "invokeRemote timeout",
    op: "invokeRemote",
    args: [{ path: "/slow", method: "GET" }],
    replies: [rejectWith("Remote invocation timed out after 25 seconds")],
    errorKind: "timeout",
  },
  {
    name: "invokeRemote invalid content type",
    op: "invokeRemote",
    args: [{ path: "/tasks", method: "GET" }],
    replies: [rejectWith("Invalid response from remote - content-type header must be set to application/json and is currently: text/html. Status: 502.")],
    errorKind: "invalid_content_type",
  },
  {
    name: "invokeRemote cannot parse body",
    op: "invokeRemote",
    args: [{ path: "/tasks", method: "GET" }],
    replies: [rejectWith("Invalid response from remote - cannot parse body as JSON. Status: 500.")],
    errorKind: "cannot_parse_body",
  },
  {
    name: "invokeRemote network error",
    op: "invokeRemote",
    args: [{ path: "/tasks", method: "GET" }],
    replies: [rejectWith("Invalid response from remote - remote network error")],
    errorKind: "network_error",
  },
  {
    name: "invokeRemote unexpected",
    op: "invokeRemote",
    args: [{ path: "/tasks", method: "GET" }],
    replies: [rejectWith("An unexpected error happened")],
    errorKind: "unexpected",
  },
  {
    name: "invokeRemote undocumented rejection",
    op: "invokeRemote",
    args: [{ path: "/tasks", method: "GET" }],
    replies: [rejectWith("Something else broke")],
    errorKind: "rejected",
  },

  // requestRemote
  {
    name: "requestRemote POST JSON",
    op: "requestRemote",
    args: [REMOTE_KEY, { path: "/tasks?team=a", method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ title: "x" }) }],
    replies: [{ resolve: { status: 201, statusText: "Created", headers: { "content-type": "application/json", "x-request-id": "r1" }, body: '{"id":1}' } }],
  },
  {
    name: "requestRemote GET with custom, repeated, padded and forbidden headers",
    op: "requestRemote",
    args: [REMOTE_KEY, {
      path: "/whoami",
      method: "GET",
      headers: { "X-Trace-Id": "abc", Accept: "application/json", "x-trace-id": "def", Origin: "https://evil.example", "X-Padded": "  v \t", "Sec-Fetch-Mode": "cors" },
    }],
    replies: [{ resolve: { status: 200, statusText: "OK", headers: { "Content-Type": "application/json", "X-Multi": ["a", "b"], "Set-Cookie": "s=1" }, body: '{"accountId":"a1"}' } }],
  },
  {
    name: "requestRemote PUT with header pairs and a text body without content type",
    op: "requestRemote",
    args: [REMOTE_KEY, { path: "/echo", method: "PUT", headers: [["B", "1"], ["a", "2"], ["b", "3"]], body: "plain" }],
    replies: [{ resolve: { status: 200, headers: {}, body: "ok" } }],
  },
  {
    name: "requestRemote DELETE without body, 204",
    op: "requestRemote",
    args: [REMOTE_KEY, { path: "/tasks/1", method: "DELETE" }],
    replies: [{ resolve: { status: 204, statusText: "No Content", headers: {}, body: "" } }],
  },
  {
    name: "requestRemote 4xx with JSON",
    op: "requestRemote",
    args: [REMOTE_KEY, { path: "/tasks/9", method: "GET" }],
    replies: [{ resolve: { status: 404, statusText: "Not Found", headers: { "content-type": "application/json" }, body: '{"code":"not_found","message":"no task 9"}' } }],
  },
  {
    name: "requestRemote rejected by the host",
    op: "requestRemote",
    args: [REMOTE_KEY, { path: "/whoami", method: "GET" }],
    replies: [rejectWith("Failed to fetch")],
    errorKind: "rejected",
  },
  {
    name: "requestRemote invalid header name",
    op: "requestRemote",
    args: [REMOTE_KEY, { path: "/whoami", method: "GET", headers: { "a b": "x" } }],
    replies: [],
    errorKind: "invalid_request",
  },
  {
    name: "requestRemote GET with a body",
    op: "requestRemote",
    args: [REMOTE_KEY, { path: "/whoami", method: "GET", body: "x" }],
    replies: [],
    errorKind: "invalid_request",
  },

  // getContext
  {
    name: "getContext, Jira issue panel, en_US",
    op: "getContext",
    args: [],
    replies: [{ resolve: issuePanelContext }],
  },
  {
    name: "getContext, Confluence macro, bare language",
    op: "getContext",
    args: [],
    replies: [{ resolve: macroContext }],
  },
  {
    name: "getContext, unsupported locale kept",
    op: "getContext",
    args: [],
    replies: [{ resolve: { ...issuePanelContext, locale: "xx_YY" } }],
  },
  {
    name: "getContext, nb_NO falls back to no-NO",
    op: "getContext",
    args: [],
    replies: [{ resolve: { ...issuePanelContext, locale: "nb_NO" } }],
  },

  // view, flag, router
  { name: "enableTheming", op: "enableTheming", args: [], replies: [{ resolve: null }] },
  {
    name: "showFlag then close",
    op: "showAndCloseFlag",
    args: [{ id: "saved", title: "Saved", description: "Task saved", appearance: "success", isAutoDismiss: true }],
    replies: [{ resolve: null }, { resolve: true }],
  },
  {
    name: "showFlag with a numeric id and the default type",
    op: "showAndCloseFlag",
    args: [{ id: 7, title: "Heads up", type: "warning" }],
    replies: [{ resolve: null }, { resolve: true }],
  },
  {
    name: "showFlag without id",
    op: "showAndCloseFlag",
    args: [{ id: "", title: "x" }],
    replies: [],
    errorKind: "invalid_request",
  },
  { name: "router.navigate to a URL", op: "navigate", args: ["https://example.atlassian.net/browse/KAN-2"], replies: [{ resolve: null }] },
  { name: "router.open an issue", op: "open", args: [{ target: "issue", issueKey: "KAN-2" }], replies: [{ resolve: null }] },
  {
    name: "router.navigate to a module",
    op: "navigate",
    args: [{ target: "module", moduleKey: "team-tasks-page", projectKey: "KAN" }],
    replies: [{ resolve: null }],
  },
  { name: "router.reload", op: "reload", args: [], replies: [{ resolve: null }] },

  // view.submit / view.open: what a macro config view saves with and a macro opens it with
  { name: "view.submit({config}) through the typed helper", op: "submitConfig", args: [{ team: "Core & \"UI\" é" }], replies: [{ resolve: true }] },
  {
    name: "view.submit with any JSON payload, host answers nothing",
    op: "submit",
    args: [{ config: { team: "Forge", limit: 5, tags: ["a", null], nested: { on: false } } }],
    replies: [{ resolve: null }],
  },
  { name: "view.submit with an array payload", op: "submit", args: [[1, "two", { three: 3 }]], replies: [{ resolve: { saved: true } }] },
  {
    name: "view.submit answered false: not submittable",
    op: "submitConfig",
    args: [{ team: "Forge" }],
    replies: [{ resolve: false }],
    errorKind: "not_submittable",
  },
  {
    name: "view.submit rejected by the host keeps its message",
    op: "submit",
    args: [{ config: { team: "Forge" } }],
    replies: [rejectWith("Macro could not be saved")],
    errorKind: "rejected",
  },
  { name: "view.open", op: "viewOpen", args: [], replies: [{ resolve: true }] },
  { name: "view.open, host answers nothing", op: "viewOpen", args: [], replies: [{ resolve: null }] },
  { name: "view.open answered false: not openable", op: "viewOpen", args: [], replies: [{ resolve: false }], errorKind: "not_openable" },
  {
    name: "view.open rejected: not openable either",
    op: "viewOpen",
    args: [],
    replies: [rejectWith("Something broke in the host")],
    errorKind: "not_openable",
  },
];

// ---------------------------------------------------------------------------------------------

let server: Server;
let origin: string;

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
};

const page = (head: string) =>
  `<!doctype html><html><head><meta charset="utf-8">${head}</head><body></body></html>`;

const pages: Record<string, string> = {
  "/index.html": page(
    `<script src="/bridge/recorder.js"></script><script type="module" src="/bridge/conformance.mjs"></script>`,
  ),
  // No __bridge at all: what happens outside an Atlassian product.
  "/unavailable.html": page(`<script type="module" src="/bridge/unavailable.mjs"></script>`),
};

test.beforeAll(async () => {
  test.setTimeout(15 * 60_000);
  if (process.env.BRIDGE_HARNESS_SKIP_BUILD !== "1") {
    execFileSync(join(supportDir, "build-harness.sh"), { stdio: "inherit" });
  }
  for (const f of ["forge-bridge.js", "harness/bridge_harness.js", "harness/bridge_harness_bg.wasm"]) {
    if (!existsSync(join(buildDir, f))) throw new Error(`missing ${f}: run end2end/bridge/build-harness.sh`);
  }
  server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (pages[path]) return send(200, types[".html"], pages[path]);
    const [root, rest] = path.startsWith("/bridge/")
      ? [supportDir, path.slice("/bridge/".length)]
      : path.startsWith("/build/")
        ? [buildDir, path.slice("/build/".length)]
        : [undefined, ""];
    const file = root && normalize(join(root, rest));
    if (!root || !file || !file.startsWith(root)) return send(404, "text/plain", "not found");
    try {
      send(200, types[extname(file)] ?? "application/octet-stream", await readFile(file));
    } catch {
      send(404, "text/plain", "not found");
    }
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no server address");
  origin = `http://127.0.0.1:${address.port}`;
});

test.afterAll(async () => {
  await new Promise((ok) => server?.close(ok));
});

async function openConformancePage(p: Page) {
  const errors: string[] = [];
  p.on("pageerror", (e) => errors.push(e.message));
  await p.goto(`${origin}/index.html`);
  await p.waitForFunction(() => (window as any).conformanceReady === true, undefined, { timeout: 10_000 });
  expect(errors, "page errors while loading both implementations").toEqual([]);
}

const run = (p: Page, impl: "js" | "rust", s: Scenario): Promise<Run> =>
  p.evaluate(
    ([impl, op, args, replies]) => (window as any).conformance.run(impl, op, args, replies),
    [impl, s.op, s.args, s.replies] as const,
  );

/** Drops null-valued keys: the typed shim reads `null` and a missing key alike as `None`. */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v as object).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]),
    );
  }
  return v;
}

/** @forge/bridge's result, reduced to what the shim exposes for this operation. */
function jsComparable(op: Op, ok: any): unknown {
  switch (op) {
    case "invokeRemote": {
      const out: Record<string, unknown> = {};
      for (const k of ["status", "headers", "body"]) if (k in ok) out[k] = ok[k];
      return out;
    }
    case "getContext": {
      const ctx = withoutNulls(ok) as any;
      for (const k of UNMODELLED_CONTEXT_KEYS) delete ctx[k];
      for (const k of UNMODELLED_EXTENSION_KEYS) delete ctx.extension?.[k];
      return ctx;
    }
    default:
      return ok;
  }
}

test.describe("Rust bridge shim vs @forge/bridge 7.2.0", () => {
  let p: Page;

  test.beforeAll(async ({ browser }) => {
    p = await browser.newPage();
    await openConformancePage(p);
  });

  test.afterAll(async () => {
    await p?.close();
  });

  for (const s of scenarios) {
    test(s.name, async () => {
      const js = await run(p, "js", s);
      const rust = await run(p, "rust", s);
      if (process.env.BRIDGE_CONFORMANCE_DEBUG) console.log(JSON.stringify({ js, rust }, null, 1));

      expect(rust.calls, "callBridge commands, argument counts and payloads").toStrictEqual(js.calls);
      expect(js.unusedReplies, "the scenario's replies were all consumed").toBe(0);
      expect(rust.unusedReplies).toBe(0);

      if (s.errorKind) {
        expect(js.result.error, "@forge/bridge fails too").toBeDefined();
        expect(rust.result.error, "the shim fails too").toBeDefined();
        expect(rust.result.error!.message, "same error message").toBe(js.result.error!.message);
        expect(rust.result.error!.kind, "mapped error kind").toBe(s.errorKind);
        return;
      }
      expect(js.result.error, "@forge/bridge succeeds").toBeUndefined();
      expect(rust.result.error, "the shim succeeds").toBeUndefined();
      if (["enableTheming", "showAndCloseFlag", "navigate", "open", "reload", "submit", "submitConfig", "viewOpen"].includes(s.op)) {
        // These resolve with whatever the host answers; the shim returns ().
        return;
      }
      expect(rust.result.ok, "same decoded result").toStrictEqual(jsComparable(s.op, js.result.ok));
    });
  }

  // The server functions (app::functions, sent by their bridge clients) against what a
  // JavaScript panel would write by hand.
  const WHOAMI = {
    appId: "ari:cloud:ecosystem::app/a",
    installationId: "ari:cloud:ecosystem::installation/i",
    principal: "acc-1",
    module: { type: "jira:issuePanel", key: "team-tasks-issue-panel" },
    environment: { type: "DEVELOPMENT", id: "e" },
    appVersion: null,
    context: null,
  };
  const clientCases: { name: string; op: string; args: unknown[]; js: Scenario; decoded: (js: any) => unknown }[] = [
    {
      name: "whoami(): GET /whoami as requestRemote(key, {path, method})",
      op: "clientWhoami",
      args: [REMOTE_KEY],
      js: {
        name: "",
        op: "requestRemote",
        args: [REMOTE_KEY, { path: "/whoami", method: "GET" }],
        replies: [{ resolve: { status: 200, statusText: "OK", headers: { "content-type": "application/json" }, body: JSON.stringify(WHOAMI) } }],
      },
      decoded: (ok) => JSON.parse(ok.body),
    },
    {
      name: "list_tasks(team): GET /tasks?team= as requestRemote with an encoded query",
      op: "clientListTasks",
      args: [REMOTE_KEY, "Core & UI"],
      js: {
        name: "",
        op: "requestRemote",
        // serde_qs's form encoding: a space is `+`.
        args: [REMOTE_KEY, { path: "/tasks?team=Core+%26+UI", method: "GET" }],
        replies: [{ resolve: { status: 200, statusText: "OK", headers: { "content-type": "application/json" }, body: '{"scope":{"kind":"team","team":"Core & UI"},"tasks":[],"progress":{"done":0,"total":0}}' } }],
      },
      decoded: (ok) => JSON.parse(ok.body),
    },
    {
      name: "create_task(title, None): POST /tasks as invokeRemote({path, method, body})",
      op: "clientCreateTask",
      args: [REMOTE_KEY, "Write tests"],
      js: {
        name: "",
        op: "invokeRemote",
        args: [{ path: "/tasks", method: "POST", body: { title: "Write tests", team: null } }],
        replies: [invokeOk(201, {
          task: { id: "t1", title: "Write tests", done: false, createdBy: "a1", createdAt: 1, updatedAt: 1 },
          progress: { done: 0, total: 1 },
        })],
      },
      decoded: (ok) => ok.body,
    },
    {
      name: "delete_task(id, None): DELETE /task?id= as invokeRemote({path, method})",
      op: "clientDeleteTask",
      args: [REMOTE_KEY, "a/b"],
      js: {
        name: "",
        op: "invokeRemote",
        args: [{ path: "/task?id=a%2Fb", method: "DELETE" }],
        replies: [invokeOk(200, { progress: { done: 0, total: 0 } })],
      },
      decoded: (ok) => ok.body,
    },
  ];

  for (const c of clientCases) {
    test(`server function: ${c.name}`, async () => {
      const js = await run(p, "js", c.js);
      const rust: Run = await p.evaluate(
        ([op, args, replies]) => (window as any).conformance.run("rust", op, args, replies),
        [c.op, c.args, c.js.replies] as const,
      );
      expect(rust.calls, "callBridge commands, argument counts and payloads").toStrictEqual(js.calls);
      expect(js.result.error).toBeUndefined();
      expect(rust.result.ok, "the typed answer").toStrictEqual(c.decoded(js.result.ok));
    });
  }

  test("a server function returns the remote's error body on non-2xx", async () => {
    const reply: Reply = {
      resolve: { status: 403, statusText: "Forbidden", headers: { "content-type": "application/json" }, body: '{"code":"forbidden","message":"no"}' },
    };
    const rust: Run = await p.evaluate(
      ([key, replies]) => (window as any).conformance.run("rust", "clientWhoami", [key], replies),
      [REMOTE_KEY, [reply]] as const,
    );
    expect(rust.calls.map((c) => c.command)).toEqual(["fetchRemote"]);
    expect(rust.result.error).toStrictEqual({ kind: "remote", body: { code: "forbidden", message: "no" } });
  });
});

test("without a host bridge the shim loads and reports Unavailable, where @forge/bridge throws at load", async ({ page: p }) => {
  const errors: string[] = [];
  p.on("pageerror", (e) => errors.push(e.message));
  await p.goto(`${origin}/unavailable.html`);
  await p.waitForFunction(() => (window as any).unavailableResult !== undefined, undefined, { timeout: 10_000 });
  const out = await p.evaluate(() => (window as any).unavailableResult);
  expect(out.rust.error.kind).toBe("unavailable");
  expect(out.flag.error.kind).toBe("unavailable");
  expect(out.js).toContain("Unable to establish a connection with the Custom UI bridge");
  expect(errors).toEqual([]);
});
