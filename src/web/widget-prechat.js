// Ponte's requester chat widget: the pre-chat form. When the server asks for it (parameter
// prechat_form, told by /api/widget/config) and the widget has no token yet (a guest's first
// chat; a portal's signed-in requester never sees it), the chat opens on a short form: a name
// (required) and an e-mail (optional), checked here as the server checks them, a refusal told
// under its field in the widget's language. The guest session then starts with them, and the
// desk shows the person by name. Loaded by widget.js after widget-marks.js; shares what it
// owns on window.PonteWidgetParts.
(function () {
  "use strict";
  const W = window.PonteWidgetParts;
  if (!W) return;
  const { base, config, t, el, lang, panel, log, form, restart, queue, notice } = W;
  // Functions of widget.js, looked up when called (they are defined once every part is loaded).
  const api = (...args) => W.api(...args);

  // What the server says before there is a token; fetched once (again after a failure).
  let settings = null;
  function serverSettings() {
    if (!settings) {
      settings = fetch(base + "/api/widget/config", { headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : null))
        .catch(() => null);
      settings.then((found) => {
        if (!found) settings = null;
      });
    }
    return settings;
  }

  // The usual shape of an address, as the server checks it (src/guest.rs).
  function plausibleEmail(email) {
    const parts = email.split("@");
    if (parts.length !== 2 || email.length > 254) return false;
    const [local, domain] = parts;
    const localOk = local.length > 0 && local.length <= 64 && !/^\.|\.$|\.\./.test(local)
      && !/[\s<>()[\],;:\\"]/.test(local);
    const labels = domain.split(".");
    const domainOk = labels.length >= 2
      && labels.every((label) => /^[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?$/u.test(label))
      && Array.from(labels[labels.length - 1]).length >= 2;
    return localOk && domainOk;
  }

  // A new guest session, `{token, requester_id}`: at once, or once the form is filled in.
  async function guestSession() {
    const found = config.token ? null : await serverSettings();
    if (!found || !found.prechat_form) return api("POST", "/api/widget/session");
    return ask(found.max_name_chars || 80);
  }

  function field(id, type, label, attrs) {
    const input = el("input", Object.assign({
      id,
      type,
      className: "ponte-field",
      "aria-describedby": id + "-error",
    }, attrs));
    const error = el("span", { id: id + "-error", className: "ponte-field-error", hidden: true });
    return { input, error, nodes: [el("label", { for: id, text: label }), input, error] };
  }

  function ask(maxName) {
    return new Promise((resolve) => {
      const name = field("ponte-prechat-name", "text", t.prechatName, {
        autocomplete: "name", maxlength: String(maxName), required: true,
      });
      const email = field("ponte-prechat-email", "email", t.prechatEmail, {
        autocomplete: "email", inputmode: "email", maxlength: "254",
      });
      const start = el("button", { id: "ponte-prechat-start", type: "submit", className: "ponte-send", text: t.prechatStart });
      const box = el("form", { id: "ponte-prechat", className: "ponte-prechat", novalidate: true, "aria-labelledby": "ponte-prechat-intro" }, [
        el("p", { id: "ponte-prechat-intro", className: "ponte-prechat-intro", text: t.prechatIntro }),
        ...name.nodes,
        ...email.nodes,
        start,
      ]);
      // The form takes the chat's place until it is sent.
      const covered = [log, form, restart, queue, notice].map((node) => [node, node.hidden]);
      for (const [node] of covered) node.hidden = true;
      panel.insertBefore(box, log);
      name.input.focus();

      const byCode = { name_required: name, name_too_long: name, invalid_email: email };
      function clear() {
        for (const each of [name, email]) {
          each.input.removeAttribute("aria-invalid");
          each.error.hidden = true;
          each.error.textContent = "";
        }
      }
      function refuse(code, text) {
        const target = byCode[code];
        if (!target) {
          W.showNotice(text);
          return;
        }
        target.input.setAttribute("aria-invalid", "true");
        target.error.textContent = text || window.PonteErrors.text(code, lang, 422);
        target.error.hidden = false;
        target.input.focus();
      }

      box.addEventListener("submit", async (event) => {
        event.preventDefault();
        clear();
        W.hideNotice();
        const given = name.input.value.replace(/\s+/g, " ").trim();
        const address = email.input.value.trim();
        const code = !given ? "name_required"
          : Array.from(given).length > maxName ? "name_too_long"
            : address && !plausibleEmail(address) ? "invalid_email" : "";
        if (code) {
          refuse(code);
          return;
        }
        start.disabled = true;
        try {
          const session = await api("POST", "/api/widget/session", address ? { name: given, email: address } : { name: given });
          box.remove();
          for (const [node, hidden] of covered) node.hidden = hidden;
          resolve(session);
        } catch (error) {
          refuse(error.code, error.message);
        } finally {
          start.disabled = false;
        }
      });
    });
  }

  Object.assign(W, { guestSession, serverSettings });
})();
