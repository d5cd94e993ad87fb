// Ponte's requester chat widget: what a message carries besides its text. A file in the
// chat, whoever sent it, shows as a picture when it is an image and as a link otherwise
// (both fetched with the requester's token, which a plain <img src> or <a href> could not
// send). The requester sends files with the attach button, by dropping them on the chat or
// by pasting (an image from the clipboard), with the upload's progress; a file the server's
// rules refuse (its allowed types and their sizes, from /api/widget/config) is refused
// before it is sent, and a refusal by the server is told in the widget's language. An
// article offered by the assistant can be read in full inside the chat, its Markdown body
// rendered safely, with the portal page a link beside it.
// Loaded by widget.js after widget-view.js; shares what it owns on window.PonteWidgetParts.
(function () {
  "use strict";
  const W = window.PonteWidgetParts;
  if (!W) return;
  const { base, state, t, el, markdown, safeHref, lang, root, panel, form, input } = W;

  // The bytes of an attachment, as a blob URL that lives as long as the page.
  const blobs = new Map(); // attachment id -> Promise<string>
  function attachmentUrl(id) {
    if (!blobs.has(id)) {
      const loading = fetch(base + "/api/attachments/" + encodeURIComponent(id), {
        headers: { Authorization: "Bearer " + state.token },
      }).then((response) => {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.blob();
      }).then((blob) => URL.createObjectURL(blob));
      // A failure is not kept: the next look tries again.
      loading.catch(() => blobs.delete(id));
      blobs.set(id, loading);
    }
    return blobs.get(id);
  }

  function sizeText(bytes) {
    if (!bytes) return "";
    if (bytes < 1024 * 1024) return Math.max(1, Math.round(bytes / 1024)) + " KB";
    const mib = bytes / (1024 * 1024);
    return (Number.isInteger(mib) ? String(mib) : mib.toFixed(1)) + " MB";
  }

  // The file of `attachment` (the payload of its message) for the log.
  function attachmentView(attachment) {
    const name = attachment.file_name || "attachment";
    const box = el("div", { className: "ponte-attachment" });
    const href = base + "/api/attachments/" + encodeURIComponent(attachment.id);
    const link = el("a", { className: "ponte-attachment-link", href, download: name });
    link.appendChild(fileIcon());
    link.appendChild(el("span", { className: "ponte-attachment-name", text: name }));
    const size = sizeText(attachment.size);
    if (size) link.appendChild(el("span", { className: "ponte-attachment-size", text: size }));
    link.title = t.download(name);
    link.addEventListener("click", async (event) => {
      if (link.dataset.ready) return;
      event.preventDefault();
      try {
        link.href = await attachmentUrl(attachment.id);
        link.dataset.ready = "1";
        link.click();
      } catch (_) {
        W.showNotice(t.fileFailed);
      }
    });
    const isImage = attachment.kind === "image" || String(attachment.content_type || "").startsWith("image/");
    if (isImage) {
      const picture = el("img", { className: "ponte-attachment-image", alt: name, hidden: true });
      box.appendChild(picture);
      attachmentUrl(attachment.id)
        .then((url) => {
          picture.addEventListener("load", () => W.follow(), { once: true });
          picture.src = url;
          picture.hidden = false;
        })
        .catch(() => {
          /* the link below still offers the file */
        });
    }
    box.appendChild(link);
    return box;
  }

  // A paper-clip drawn inline, so it shows without an emoji font.
  function fileIcon() {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "ponte-attachment-icon");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M16.5 6.5l-7.8 7.8a1.8 1.8 0 0 0 2.5 2.5l8-8a3.5 3.5 0 0 0-5-5l-8.2 8.2a5.3 5.3 0 0 0 7.5 7.5l7-7");
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    svg.appendChild(path);
    return svg;
  }

  // ---------- sending files ----------
  // The server's rules: content type -> {kind, max_bytes}. Fetched once; until they are
  // known (or when they cannot be), the server alone decides.
  let rules = null;
  function loadRules() {
    if (!rules) {
      rules = fetch(base + "/api/widget/config", { headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : null))
        .then((config) => {
          const found = new Map();
          for (const rule of (config && config.attachments) || []) found.set(rule.content_type, rule);
          if (!found.size) return null;
          picker.accept = Array.from(found.keys()).join(",");
          return found;
        })
        .catch(() => null);
      rules.then((found) => {
        if (!found) rules = null;
      });
    }
    return rules;
  }

  // Why the server would refuse `file`, in the widget's language; null when it would not
  // or the widget cannot tell (no rules, a type the browser does not know).
  async function refusal(file) {
    if (!file.size) return t.emptyFile;
    const known = await loadRules();
    const type = String(file.type || "").split(";")[0].trim().toLowerCase();
    if (!known || !type) return null;
    const rule = known.get(type);
    if (!rule) return window.PonteErrors.text("unsupported_media_type", lang, 415);
    if (file.size > rule.max_bytes) {
      return window.PonteErrors.text("attachment_too_large", lang, 413) + " " + t.limit(sizeText(rule.max_bytes));
    }
    return null;
  }

  // Files are for the people serving the chat: while only the assistant answers (or after
  // the close) there is nobody to read them.
  function mayAttach() {
    return Boolean(state.conversation) && !state.finished
      && (root.dataset.stage === "waiting" || root.dataset.stage === "person");
  }

  function sendFiles(files) {
    const list = Array.from(files || []);
    if (!list.length || state.finished) return;
    if (!mayAttach()) {
      W.showNotice(t.filesLater);
      return;
    }
    W.hideNotice();
    W.disableOldOptions();
    for (const file of list) sendFile(file);
  }

  // A pasted image may come without a name: "image-20260131-142501.png".
  function nameOf(file) {
    if (file.name) return file.name;
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
    const extension = String(file.type || "").split("/")[1] || "bin";
    return t.pasted + "-" + stamp + "." + extension.replace(/[^a-z0-9]/gi, "");
  }

  // The file in the log while it goes: its name, its size and a progress bar; then the file
  // as the chat shows it, or why it was not sent.
  async function sendFile(file) {
    const name = nameOf(file);
    const item = W.bubble("requester", "", 0);
    item.classList.add("ponte-pending", "ponte-uploading");
    const line = el("div", { className: "ponte-attachment-link" }, [fileIcon()]);
    line.appendChild(el("span", { className: "ponte-attachment-name", text: name }));
    line.appendChild(el("span", { className: "ponte-attachment-size", text: sizeText(file.size) }));
    const bar = el("progress", { className: "ponte-progress", max: "100", value: "0", "aria-label": t.uploading(name) });
    item.appendChild(el("div", { className: "ponte-attachment" }, [line, bar]));
    W.append(item);
    const refused = await refusal(file);
    if (refused) {
      failed(item, refused);
      return;
    }
    upload(file, name, item, bar);
  }

  function failed(item, text, retry) {
    item.classList.remove("ponte-pending", "ponte-uploading");
    item.classList.add("ponte-failed");
    for (const old of item.querySelectorAll(".ponte-progress, .ponte-error, .ponte-retry")) old.remove();
    item.appendChild(el("span", { className: "ponte-error", text }));
    if (retry) {
      const again = el("button", { type: "button", className: "ponte-retry", text: t.fileRetry });
      again.addEventListener("click", retry);
      item.appendChild(again);
    }
    W.follow();
  }

  // POST /api/conversations/{id}/attachments with the file as the body: XMLHttpRequest,
  // whose upload reports its progress (fetch does not).
  function upload(file, name, item, bar) {
    const request = new XMLHttpRequest();
    const path = "/api/conversations/" + encodeURIComponent(state.conversation) + "/attachments?name=" + encodeURIComponent(name);
    request.open("POST", base + path);
    request.setRequestHeader("Authorization", "Bearer " + state.token);
    request.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total) bar.value = Math.round((event.loaded * 100) / event.total);
    });
    request.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch (_) {
        body = null;
      }
      if (request.status === 201 && body && body.attachment) {
        sent(item, body.attachment, body.message);
        return;
      }
      // The body limit in front of the upload answers 413 too.
      const code = body && typeof body.code === "string" ? body.code : request.status === 413 ? "attachment_too_large" : "";
      failed(item, code === "empty_text" ? t.emptyFile : window.PonteErrors.text(code, lang, request.status));
      if (code === "conversation_finished") W.markFinished();
    });
    request.addEventListener("error", () => {
      failed(item, window.PonteErrors.text("network", lang, 0), () => {
        item.classList.remove("ponte-failed");
        item.classList.add("ponte-pending", "ponte-uploading");
        for (const old of item.querySelectorAll(".ponte-error, .ponte-retry")) old.remove();
        bar.value = 0;
        item.querySelector(".ponte-attachment").appendChild(bar);
        upload(file, name, item, bar);
      });
    });
    request.send(file);
  }

  // Sent: the bubble becomes the file as the chat shows it, unless the live feed already
  // showed its message (then that one stays).
  function sent(item, attachment, message) {
    const seq = message && typeof message.seq === "number" ? message.seq : 0;
    if (seq && state.shownSeqs.has(seq)) {
      item.remove();
      return;
    }
    if (seq) {
      state.shownSeqs.add(seq);
      state.lastSeq = Math.max(state.lastSeq, seq);
    }
    item.replaceWith(W.fileBubble("requester", attachment, seq));
    W.follow();
  }

  // The attach button and its file picker, before the text field.
  const picker = el("input", {
    id: "ponte-file",
    type: "file",
    className: "ponte-visually-hidden",
    tabindex: "-1",
    multiple: true,
    "aria-label": t.attach,
  });
  const attach = el("button", { id: "ponte-attach", type: "button", className: "ponte-attach", "aria-label": t.attach, title: t.attach });
  attach.appendChild(fileIcon());
  form.insertBefore(picker, form.firstChild);
  form.insertBefore(attach, input);
  attach.addEventListener("click", () => {
    loadRules();
    picker.click();
  });
  picker.addEventListener("change", () => {
    sendFiles(picker.files);
    picker.value = "";
  });

  // Dropping files anywhere on the open chat.
  const dropZone = el("div", { className: "ponte-drop", hidden: true, "aria-hidden": "true" }, [
    el("span", { text: t.dropHere }),
  ]);
  panel.appendChild(dropZone);
  const carriesFiles = (event) => Boolean(event.dataTransfer) && Array.from(event.dataTransfer.types || []).includes("Files");
  let depth = 0;
  panel.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth += 1;
    dropZone.hidden = false;
  });
  panel.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  panel.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) dropZone.hidden = true;
  });
  panel.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    dropZone.hidden = true;
    sendFiles(event.dataTransfer.files);
  });
  // Pasting a file (a screenshot copied to the clipboard) in the chat sends it; pasted text
  // stays text.
  panel.addEventListener("paste", (event) => {
    const files = event.clipboardData ? Array.from(event.clipboardData.files || []) : [];
    if (!files.length) return;
    event.preventDefault();
    sendFiles(files);
  });

  // ---------- reading an article in the chat ----------
  const bodies = new Map(); // article id -> Promise<article>
  function fetchArticle(id) {
    if (!bodies.has(id)) {
      const loading = W.api("GET", "/api/knowledge/articles/" + encodeURIComponent(id));
      loading.catch(() => bodies.delete(id));
      bodies.set(id, loading);
    }
    return bodies.get(id);
  }

  // Shows (or hides again) the full text of the article in its card.
  async function toggleReading(card, article, button) {
    const body = card.querySelector(".ponte-article-body");
    if (!body.hidden) {
      body.hidden = true;
      card.classList.remove("ponte-reading");
      button.textContent = t.read;
      button.setAttribute("aria-expanded", "false");
      return;
    }
    button.setAttribute("aria-expanded", "true");
    button.textContent = t.hide;
    body.hidden = false;
    card.classList.add("ponte-reading");
    if (body.dataset.loaded) return;
    body.replaceChildren(el("p", { className: "ponte-article-loading", text: t.loading }));
    try {
      const full = await fetchArticle(article.id);
      // The body usually opens with the title the card already shows; its headings come
      // under the widget's own (h2).
      body.replaceChildren(markdown(full.body || full.summary || "", { title: article.title || "", top: 3 }));
      body.dataset.loaded = "1";
    } catch (_) {
      body.replaceChildren(el("p", { className: "ponte-article-loading", text: t.articleFailed }));
    }
    W.follow();
  }

  // The card's actions: read here, the portal page (a link), close.
  function articleActions(card, article, bodyId) {
    const actions = el("div", { className: "ponte-article-actions" });
    const read = el("button", {
      type: "button",
      className: "ponte-article-read",
      "aria-expanded": "false",
      "aria-controls": bodyId,
      text: t.read,
    });
    read.addEventListener("click", () => toggleReading(card, article, read));
    actions.appendChild(read);
    const portal = article.url && safeHref(article.url);
    if (portal) {
      actions.appendChild(
        el("a", {
          className: "ponte-article-portal",
          href: portal,
          target: "_blank",
          rel: "noopener noreferrer",
          text: t.viewInPortal,
        })
      );
    }
    const close = el("button", { type: "button", className: "ponte-article-close", text: t.closeArticle });
    close.addEventListener("click", () => W.choose("close", close));
    actions.appendChild(close);
    return actions;
  }

  Object.assign(W, {
    attachmentView, attachmentUrl, fileIcon, fetchArticle, toggleReading, articleActions,
    loadRules, refusal, mayAttach, sendFiles, sendFile, attach, picker, dropZone,
  });
})();
