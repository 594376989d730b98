// Loads both implementations, after recorder.js, and runs one scenario through either:
// `window.conformance.run(impl, op, args, replies)` with impl "js" (the real @forge/bridge)
// or "rust" (the shim, through end2end/bridge-harness). Both results come back in the shape
// both can expose, canonicalised (object keys sorted, `undefined` as "<undefined>") so the
// spec can compare them with toStrictEqual.
import * as FB from "/build/forge-bridge.js";
import init, * as H from "/build/harness/bridge_harness.js";

await init();

// A Response, read as far as the shim exposes it.
const readResponse = async (res) => ({
  status: res.status,
  statusText: res.statusText,
  headers: [...res.headers.entries()],
  body: await res.text(),
});

const js = {
  invokeRemote: (input) => FB.invokeRemote(input),
  requestRemote: async (key, init) => readResponse(await FB.requestRemote(key, init)),
  getContext: () => FB.view.getContext(),
  enableTheming: () => FB.view.theme.enable(),
  showAndCloseFlag: async (options) => FB.showFlag(options).close(),
  navigate: (location) => FB.router.navigate(location),
  open: (location) => FB.router.open(location),
  reload: () => FB.router.reload(),
  submit: (payload) => FB.view.submit(payload),
  submitConfig: (config) => FB.view.submit({ config }),
  viewOpen: () => FB.view.open(),
};

const parsed = (p) => p.then((text) => JSON.parse(text));
const rust = {
  invokeRemote: (input) => parsed(H.invoke_remote(JSON.stringify(input))),
  requestRemote: async (key, init) => {
    const out = await parsed(H.request_remote(key, JSON.stringify(init)));
    if (!out.ok) return out;
    // Headers as entries, in the shim's order; `isAttachment` has no Response counterpart.
    const { status, statusText, headers, body } = out.ok;
    return { ok: { status, statusText, headers: Object.entries(headers), body } };
  },
  getContext: () => parsed(H.get_context()),
  enableTheming: () => parsed(H.enable_theming()),
  showAndCloseFlag: (options) => parsed(H.show_and_close_flag(JSON.stringify(options))),
  navigate: (location) => parsed(H.navigate(JSON.stringify(location))),
  open: (location) => parsed(H.open(JSON.stringify(location))),
  reload: () => parsed(H.reload()),
  submit: (payload) => parsed(H.submit(JSON.stringify(payload))),
  submitConfig: (config) => parsed(H.submit_config(JSON.stringify(config))),
  viewOpen: () => parsed(H.view_open()),
  clientWhoami: (key) => parsed(H.client_whoami(key)),
  clientListTasks: (key, team) => parsed(H.client_list_tasks(key, team)),
  clientCreateTask: (key, title) => parsed(H.client_create_task(key, title)),
  clientDeleteTask: (key, id) => parsed(H.client_delete_task(key, id)),
};

function canon(v) {
  if (v === undefined) return "<undefined>";
  if (typeof v === "function") return "<function>";
  if (Array.isArray(v)) return v.map(canon);
  if (v !== null && typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = canon(v[k]);
    return out;
  }
  return v;
}

async function run(impl, op, args, replies) {
  globalThis.__recorder.calls = [];
  globalThis.__recorder.replies = structuredClone(replies);
  let result;
  if (impl === "js") {
    try {
      result = { ok: await js[op](...args) };
    } catch (e) {
      result = { error: { message: e?.message ?? String(e) } };
    }
  } else {
    result = await rust[op](...args);
  }
  return canon({
    calls: globalThis.__recorder.calls,
    result,
    unusedReplies: globalThis.__recorder.replies.length,
  });
}

window.conformance = { run };
window.conformanceReady = true;
