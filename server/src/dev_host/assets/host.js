// The product page's side of the bridge: answers the iframe's callBridge(command, payload)
// the way Jira and Confluence do. The placement (site, user, module, issue or page) comes
// from this page's configuration, never from the iframe, as on Atlassian's products.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("forge-host-config").textContent);
  var frame = document.querySelector("iframe.forge-frame");
  var flags = document.querySelector(".host-flags");

  // What tests and curious developers can inspect: every bridge call and navigation.
  var record = (window.__forgeHost = { calls: [], navigations: [], flags: [], themed: false });

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (res) {
      if (!res.ok) return res.text().then(function (t) { throw new Error("local host: " + t); });
      return res.status === 204 ? null : res.json();
    });
  }

  // requestRemote: a FIT without OAuth tokens, reused while it is valid, as Forge caches it.
  var fitCache = null;
  function fit() {
    var now = Date.now() / 1000;
    if (fitCache && fitCache.expiresAt - 2 > now) return Promise.resolve(fitCache);
    return post("/__devhost/api/fit", config.placement).then(function (f) {
      fitCache = f;
      return f;
    });
  }

  function fetchRemote(payload) {
    return fit().then(function (f) {
      var base = f.remotes[payload.remoteKey];
      if (!base) throw new Error("No remote with key " + payload.remoteKey);
      var init = payload.fetchRequestInit || {};
      var headers = new Headers(init.headers || []);
      headers.set("authorization", "Bearer " + f.token);
      // The product page sends this request itself: cross-origin, so the remote's CORS applies.
      return fetch(new URL(init.path || "/", base), {
        method: init.method || "GET",
        headers: headers,
        body: init.body == null ? undefined : init.body,
      }).then(function (res) {
        return res.text().then(function (text) {
          var out = {};
          res.headers.forEach(function (v, k) { out[k] = v; });
          return { body: text, headers: out, status: res.status, statusText: res.statusText, isAttachment: false };
        });
      });
    });
  }

  function showFlag(options) {
    record.flags.push(options);
    var el = document.createElement("div");
    el.className = "host-flag";
    el.setAttribute("role", "alert");
    el.dataset.flagId = options.id;
    el.dataset.appearance = options.appearance || options.type || "info";
    var h = document.createElement("h2");
    h.textContent = options.title || "";
    var p = document.createElement("p");
    p.textContent = options.description || "";
    el.append(h, p);
    flags.appendChild(el);
    if (options.isAutoDismiss) setTimeout(function () { el.remove(); }, 8000);
  }

  function sendTheme() {
    frame.contentWindow.postMessage(
      { type: "forge-bridge:theme", colorMode: config.placement.theme === "dark" ? "dark" : "light" },
      config.cdnOrigin
    );
  }

  var commands = {
    getContext: function () { return post("/__devhost/api/context", config.placement); },
    invoke: function (payload) {
      if (!payload || payload.invokeType !== "ui-remote-fetch") {
        return Promise.reject(new Error("The local host runs remotes only: Forge functions are not available"));
      }
      var call = { path: payload.path, method: payload.method, headers: payload.headers, body: payload.body };
      return post("/__devhost/api/invoke", { placement: config.placement, call: call }).then(function (r) {
        if (!r.ok) throw new Error(r.error);
        return r.value;
      });
    },
    fetchRemote: fetchRemote,
    enableTheming: function () {
      record.themed = true;
      sendTheme();
      return Promise.resolve();
    },
    showFlag: function (options) { showFlag(options); return Promise.resolve(); },
    closeFlag: function (payload) {
      var el = flags.querySelector('[data-flag-id="' + CSS.escape(String(payload.id)) + '"]');
      if (el) el.remove();
      return Promise.resolve();
    },
    navigate: function (payload) {
      record.navigations.push(payload);
      if (payload.url) {
        if (payload.type === "new-tab") window.open(payload.url, "_blank", "noopener");
        else window.location.assign(payload.url);
      }
      return Promise.resolve();
    },
  };

  window.addEventListener("message", function (event) {
    // Only the iframe this page created, from the CDN origin, may talk to the host.
    if (event.source !== frame.contentWindow || event.origin !== config.cdnOrigin) return;
    var msg = event.data;
    if (!msg || msg.type !== "forge-bridge:call") return;
    record.calls.push({ command: msg.command, payload: msg.payload });
    var handler = commands[msg.command];
    var result = handler
      ? Promise.resolve().then(function () { return handler(msg.payload); })
      : Promise.reject(new Error("The local host does not support the bridge command " + msg.command));
    result.then(
      function (value) { reply(msg.id, { ok: true, value: value === undefined ? null : value }); },
      function (err) { reply(msg.id, { ok: false, error: String((err && err.message) || err) }); }
    );
  });

  function reply(id, body) {
    body.type = "forge-bridge:reply";
    body.id = id;
    frame.contentWindow.postMessage(body, config.cdnOrigin);
  }

  // Site, user and theme switchers reload the page with the new placement.
  document.querySelectorAll("[data-host-switch]").forEach(function (select) {
    select.addEventListener("change", function () {
      var kind = select.dataset.hostSwitch;
      var url = new URL(window.location.href);
      if (kind === "href") {
        // Another site: the same product's first page there, keeping user and theme.
        var next = new URL(select.value, window.location.origin);
        next.search = url.search;
        window.location.assign(next.toString());
        return;
      }
      url.searchParams.set(kind, select.value);
      window.location.assign(url.toString());
    });
  });

  var form = document.querySelector(".host-macro-config");
  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var team = form.querySelector("[name=team]").value;
      post("/__devhost/api/macro-config", { site: form.dataset.site, page: form.dataset.page, config: { team: team } })
        .then(function () { window.location.reload(); });
    });
  }

  // Under `cargo leptos watch`: reload the iframe when cargo-leptos says the build changed.
  if (config.reloadPort) {
    var connect = function (reloadOnOpen) {
      var ws = new WebSocket("ws://" + window.location.hostname + ":" + config.reloadPort + "/live_reload");
      ws.onopen = function () { if (reloadOnOpen) window.location.reload(); };
      ws.onmessage = function () { frame.src = frame.src; };
      // The server restarts on every rebuild: reconnect, then reload to pick up a new deployment.
      ws.onclose = function () { setTimeout(function () { connect(true); }, 1000); };
    };
    connect(false);
  }
})();
