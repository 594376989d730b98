// The product page's side of the bridge: answers the iframes' callBridge(command, payload)
// the way Jira and Confluence do. The placement (site, user, module, issue or page, macro
// instance and its config) comes from this page's configuration, never from an iframe, as on
// Atlassian's products. On a Confluence page it also plays the editor: inserting the macro, and
// opening its config view (manifest `macro[].config.resource`) in a dialog, in an iframe of its
// own, which saves with `view.submit({config})`.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("forge-host-config").textContent);
  var placement = config.placement;
  // Confluence only: {site, page, configView: {src, title, openOnInsert} | null}.
  var page = config.page;
  var flags = document.querySelector(".host-flags");

  // What tests and curious developers can inspect: every bridge call and navigation. `refuse`
  // lists commands to answer with `false`, as a host does for a view that cannot do that (tests
  // use it for a macro whose config view cannot be opened).
  var record = (window.__forgeHost = { calls: [], navigations: [], flags: [], submits: [], themed: false, refuse: [] });

  // The iframes this page created: the module's ("module") and, while its dialog is open, the
  // macro's config view ("config"). Only they may talk to the host.
  var mainFrame = document.querySelector("iframe.forge-frame");
  var frames = mainFrame ? [{ frame: mainFrame, kind: "module" }] : [];

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

  function sendTheme(frame) {
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
    enableTheming: function (payload, source) {
      record.themed = true;
      sendTheme(source.frame);
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
        var target;
        try {
          target = new URL(payload.url, window.location.href);
        } catch (e) {
          return Promise.reject(new Error("navigate: not a URL"));
        }
        // Web pages only: a javascript: or data: URL would run in the product page's origin.
        if (target.protocol !== "http:" && target.protocol !== "https:") {
          return Promise.reject(new Error("navigate: only http: and https: URLs can be opened"));
        }
        if (payload.type === "new-tab") window.open(target.href, "_blank", "noopener");
        else window.location.assign(target.href);
      }
      return Promise.resolve();
    },
    // view.submit: only a config view is submittable; Confluence saves `payload.config` as the
    // macro's config, closes the dialog and renders the macro again with it.
    submit: function (payload, source) {
      if (source.kind !== "config") return Promise.resolve(false);
      var req = { site: page.site, page: page.page, localId: placement.localId, payload: payload };
      return post("/__devhost/api/macros/submit", req).then(function (r) {
        if (!r.ok) throw new Error(r.error);
        record.submits.push(payload);
        placement.config = r.config;
        fitCache = null;
        closeDialog();
        reloadMacro();
        return true;
      });
    },
    // view.open: a macro opens its config view; nothing else here is openable.
    open: function (payload, source) {
      if (source.kind !== "module" || !page || !page.configView) return Promise.resolve(false);
      openDialog();
      return Promise.resolve(true);
    },
  };

  function makeFrame(src, title, className) {
    var f = document.createElement("iframe");
    f.className = className;
    f.title = title;
    f.setAttribute("sandbox", config.sandbox);
    f.setAttribute("allow", config.allow);
    f.src = src;
    return f;
  }

  function reloadMacro() {
    if (mainFrame) mainFrame.src = mainFrame.src;
  }

  // The config dialog, as Confluence opens it over the page: the config resource in its own
  // sandboxed iframe, with the same CDN path scheme and CSP as the macro's.
  var dialog = null;
  function openDialog() {
    if (dialog) return dialog.entry.frame.focus();
    var view = page.configView;
    var backdrop = document.createElement("div");
    backdrop.className = "host-dialog-backdrop";
    var box = document.createElement("div");
    box.className = "host-dialog";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-labelledby", "host-dialog-title");
    var title = document.createElement("h2");
    title.id = "host-dialog-title";
    title.textContent = view.title;
    var frame = makeFrame(view.src, view.title, "forge-config-frame");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "host-dialog-close";
    close.textContent = "Close";
    close.addEventListener("click", closeDialog);
    box.append(title, frame, close);
    backdrop.append(box);
    document.body.append(backdrop);
    var entry = { frame: frame, kind: "config" };
    frames.push(entry);
    dialog = { el: backdrop, entry: entry, opener: document.activeElement };
    // Keyboard focus goes into the view, whose field takes it.
    frame.addEventListener("load", function () { frame.focus(); });
    frame.focus();
  }

  function closeDialog() {
    if (!dialog) return;
    var d = dialog;
    dialog = null;
    frames = frames.filter(function (e) { return e !== d.entry; });
    d.el.remove();
    if (d.opener && d.opener !== document.body && d.opener.isConnected) d.opener.focus();
  }

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && dialog) closeDialog();
  });

  // The editor's action on an inserted macro: edit its settings.
  function addEditAction() {
    if (!page || !page.configView || !mainFrame) return;
    var edit = document.createElement("button");
    edit.type = "button";
    edit.className = "host-macro-edit";
    edit.textContent = "Edit";
    edit.setAttribute("aria-label", "Edit Team Tasks macro");
    edit.addEventListener("click", openDialog);
    mainFrame.parentElement.before(edit);
  }
  addEditAction();

  // "Insert macro" on a page without one: the macro goes on the page with no config, and its
  // config view opens at once when the manifest says `openOnInsert`.
  var insert = document.querySelector(".host-insert");
  if (insert) {
    insert.addEventListener("click", function () {
      post("/__devhost/api/macros/insert", { site: page.site, page: page.page }).then(function (m) {
        placement.localId = m.localId;
        placement.config = m.config;
        fitCache = null;
        var ext = document.createElement("div");
        ext.className = "forge-extension";
        ext.dataset.moduleKey = placement.module;
        mainFrame = makeFrame(insert.dataset.src, "Team Tasks", "forge-frame");
        ext.append(mainFrame);
        insert.parentElement.replaceWith(ext);
        frames.push({ frame: mainFrame, kind: "module" });
        addEditAction();
        if (page.configView && page.configView.openOnInsert) openDialog();
      });
    });
  }

  window.addEventListener("message", function (event) {
    // Only an iframe this page created, from the CDN origin, may talk to the host.
    if (event.origin !== config.cdnOrigin) return;
    var source = frames.find(function (e) { return e.frame.contentWindow === event.source; });
    if (!source) return;
    var msg = event.data;
    if (!msg || msg.type !== "forge-bridge:call") return;
    record.calls.push({ command: msg.command, payload: msg.payload, view: source.kind });
    var handler = commands[msg.command];
    var result = record.refuse.indexOf(msg.command) >= 0
      ? Promise.resolve(false)
      : handler
        ? Promise.resolve().then(function () { return handler(msg.payload, source); })
        : Promise.reject(new Error("The local host does not support the bridge command " + msg.command));
    result.then(
      function (value) { reply(source.frame, msg.id, { ok: true, value: value === undefined ? null : value }); },
      function (err) { reply(source.frame, msg.id, { ok: false, error: String((err && err.message) || err) }); }
    );
  });

  function reply(frame, id, body) {
    body.type = "forge-bridge:reply";
    body.id = id;
    // A closed dialog's frame is gone, and so is its call.
    if (frame.contentWindow) frame.contentWindow.postMessage(body, config.cdnOrigin);
  }

  // The app's life on this site, as an administrator (or Forge's scheduler) drives it; the
  // page reloads so the module runs again against what the remote now knows.
  document.querySelectorAll("[data-lifecycle]").forEach(function (button) {
    button.addEventListener("click", function () {
      var site = button.closest("[data-site]").dataset.site;
      fetch("/__devhost/api/lifecycle", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ site: site, action: button.dataset.lifecycle }),
      }).then(function () { window.location.reload(); });
    });
  });
  document.querySelectorAll("[data-rest-outage]").forEach(function (box) {
    box.addEventListener("change", function () {
      fetch("/__devhost/api/rest-outage", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ down: box.checked }),
      });
    });
  });

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

  // Under `cargo leptos watch`: reload the iframe when cargo-leptos says the build changed.
  if (config.reloadPort) {
    var connect = function (reloadOnOpen) {
      var ws = new WebSocket("ws://" + window.location.hostname + ":" + config.reloadPort + "/live_reload");
      ws.onopen = function () { if (reloadOnOpen) window.location.reload(); };
      ws.onmessage = reloadMacro;
      // The server restarts on every rebuild: reconnect, then reload to pick up a new deployment.
      ws.onclose = function () { setTimeout(function () { connect(true); }, 1000); };
    };
    connect(false);
  }
})();
