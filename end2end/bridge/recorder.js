// A recording stand-in for the host's `globalThis.__bridge`, for bridge-conformance.spec.ts.
// It must be installed before either implementation loads: @forge/bridge grabs `callBridge`
// at module load. A classic script in <head> runs before any module script.
//
// Each call is recorded as {command, argc, payload}. The payload is recorded through
// structuredClone, which is what a postMessage to the host does: functions fail to clone
// (recorded as {__notCloneable}), and a key holding `undefined` survives as such (it is not
// dropped like JSON would), so the comparison can and does tell `{a: undefined}` from `{}`.
// Replies are scripted per scenario: {resolve: value} or {reject: message}, consumed in order.
(() => {
  const recorder = { calls: [], replies: [] };
  globalThis.__recorder = recorder;
  globalThis.__bridge = {
    callBridge(command, payload) {
      let recorded;
      try {
        recorded = structuredClone(payload);
      } catch (e) {
        recorded = { __notCloneable: String(e) };
      }
      recorder.calls.push({ command, argc: arguments.length, payload: recorded });
      const reply = recorder.replies.shift();
      if (reply === undefined) {
        return Promise.reject(new Error(`recorder: no scripted reply for ${command}`));
      }
      if ("reject" in reply) return Promise.reject(new Error(reply.reject));
      // A fresh copy each time: @forge/bridge mutates what it gets (headers, locale).
      return Promise.resolve(structuredClone(reply.resolve));
    },
  };
})();
