// Loaded on a page without any `__bridge`: the shim must load and report Unavailable per call,
// where @forge/bridge throws while its modules load.
import init, * as H from "/build/harness/bridge_harness.js";

await init();
const rust = JSON.parse(await H.get_context());
const flag = JSON.parse(await H.show_and_close_flag(JSON.stringify({ id: "x" })));
let js;
try {
  await import("/build/forge-bridge.js");
  js = "loaded";
} catch (e) {
  js = e?.message ?? String(e);
}
window.unavailableResult = { rust, flag, js };
