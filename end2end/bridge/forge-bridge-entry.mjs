// Entry for the test-only browser bundle of the real @forge/bridge (pinned in package.json).
// build-harness.sh bundles it with esbuild into target/bridge-conformance/forge-bridge.js.
export { invokeRemote, requestRemote, view, showFlag, router } from "@forge/bridge";
