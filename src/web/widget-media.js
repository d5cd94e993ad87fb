// Ponte's requester chat widget: what a message carries besides its text. A file the other
// party sent shows as a picture when it is an image and as a link otherwise (both fetched
// with the requester's token, which a plain <img src> or <a href> could not send); an
// article offered by the assistant can be read in full inside the chat, its Markdown body
// rendered safely, with the portal page a link beside it.
// Loaded by widget.js after widget-view.js; shares what it owns on window.PonteWidgetParts.
(function () {
  "use strict";
  const W = window.PonteWidgetParts;
  if (!W) return;
  const { base, state, t, el, markdown, safeHref } = W;

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
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
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

  Object.assign(W, { attachmentView, attachmentUrl, fileIcon, fetchArticle, toggleReading, articleActions });
})();
