// Local stand-in for Forge's global-bridge.js, which the CDN prepends to the resource's
// <head>. It defines the one seam apps rely on, globalThis.__bridge.callBridge(command,
// payload) -> Promise, carried over postMessage to the product page (host.js) that owns this
// iframe. Forge's own script uses an internal, undocumented wire protocol; this one is ours.
(function () {
  "use strict";
  var HOST_ORIGIN = "__FORGE_HOST_ORIGIN__";
  var pending = new Map();
  var seq = 0;

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== HOST_ORIGIN) return;
    var msg = event.data;
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "forge-bridge:reply") {
      var call = pending.get(msg.id);
      if (!call) return;
      pending.delete(msg.id);
      if (msg.ok) call.resolve(msg.value);
      else call.reject(new Error(msg.error));
    } else if (msg.type === "forge-bridge:theme") {
      applyTheme(msg.colorMode);
    }
  });

  // view.theme.enable(): Atlassian design tokens, following the host's colour mode.
  function applyTheme(colorMode) {
    var root = document.documentElement;
    if (!document.getElementById("forge-design-tokens")) {
      var link = document.createElement("link");
      link.id = "forge-design-tokens";
      link.rel = "stylesheet";
      link.href = "/__forge/tokens.css";
      document.head.appendChild(link);
    }
    root.setAttribute("data-color-mode", colorMode === "dark" ? "dark" : "light");
    root.setAttribute("data-theme", "dark:dark light:light");
  }

  globalThis.__bridge = {
    callBridge: function (command, payload) {
      return new Promise(function (resolve, reject) {
        var id = ++seq;
        pending.set(id, { resolve: resolve, reject: reject });
        try {
          window.parent.postMessage(
            { type: "forge-bridge:call", id: id, command: command, payload: payload },
            HOST_ORIGIN
          );
        } catch (e) {
          // e.g. a payload holding functions, which cannot be cloned.
          pending.delete(id);
          reject(e);
        }
      });
    },
  };
})();
