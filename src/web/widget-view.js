// Ponte's requester chat widget: its elements (the button, the panel, the log, the form),
// the header that says who answers (the assistant, nobody yet, a person, or nobody any
// more) and offers the conversation as a file, and the rendering of messages, articles,
// options and notices in the log. Every text is inserted as text, never as HTML. Loaded by
// widget.js after widget-markdown.js; shares what it owns on window.PonteWidgetParts.
(function () {
  "use strict";
  const W = window.PonteWidgetParts;
  if (!W) return;
  const { base, MAX_TEXT, state, lang, t } = W;
  // Functions of widget.js, looked up when called (they are defined once every part is loaded).
  const api = (...args) => W.api(...args);
  const openPanel = (...args) => W.openPanel(...args);
  const choose = (...args) => W.choose(...args);

  // ---------- elements ----------
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children || []) if (child) node.appendChild(child);
    return node;
  }

  const stylesheet = el("link", { rel: "stylesheet", href: base + "/assets/widget.css" });
  document.head.appendChild(stylesheet);

  const root = el("div", { id: "ponte-widget", className: "ponte-widget", lang: lang });
  const talk = el("button", {
    id: "ponte-talk",
    type: "button",
    className: "ponte-talk",
    "aria-expanded": "false",
    "aria-controls": "ponte-panel",
  });
  talk.appendChild(talkIcon());
  talk.appendChild(el("span", { className: "ponte-talk-label", text: t.talk }));

  // A speech bubble drawn inline: an emoji would be an empty box without an emoji font.
  function talkIcon() {
    const svgNs = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(svgNs, "svg");
    for (const [key, value] of [["viewBox", "0 0 24 24"], ["width", "20"], ["height", "20"],
      ["aria-hidden", "true"], ["focusable", "false"], ["class", "ponte-talk-icon"]]) {
      svg.setAttribute(key, value);
    }
    const bubbleShape = document.createElementNS(svgNs, "path");
    bubbleShape.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    bubbleShape.setAttribute("fill", "currentColor");
    svg.appendChild(bubbleShape);
    for (const x of [8, 12, 16]) {
      const dotShape = document.createElementNS(svgNs, "circle");
      dotShape.setAttribute("cx", String(x));
      dotShape.setAttribute("cy", "11");
      dotShape.setAttribute("r", "1.4");
      dotShape.setAttribute("fill", "#0b5cad");
      svg.appendChild(dotShape);
    }
    return svg;
  }

  const dot = el("span", { id: "ponte-status", className: "ponte-dot ponte-dot-assistant", role: "img" });
  const heading = el("h2", { id: "ponte-title", className: "ponte-title", text: t.assistant });
  const who = el("span", { id: "ponte-agent", className: "ponte-agent", text: t.stageAssistant });
  const ticket = el("span", { id: "ponte-ticket", className: "ponte-ticket", hidden: true });
  const closeButton = el("button", {
    id: "ponte-close",
    type: "button",
    className: "ponte-icon-button",
    "aria-label": t.close,
    title: t.close,
    text: "×",
  });
  // Downloads the transcript (widget.js); shown once there is a conversation.
  const saveButton = el("button", {
    id: "ponte-save",
    type: "button",
    className: "ponte-icon-button",
    "aria-label": t.saveTranscript,
    title: t.saveTranscript,
    hidden: true,
  });
  saveButton.appendChild(saveIcon());
  // A plain block, not <header>: the portal's own header is the page's banner.
  const header = el("div", { className: "ponte-header" }, [
    dot,
    el("div", { className: "ponte-heading" }, [heading, el("div", { className: "ponte-sub" }, [who, ticket])]),
    saveButton,
    closeButton,
  ]);

  // An arrow into a tray, drawn inline like the Talk button's icon.
  function saveIcon() {
    const svgNs = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(svgNs, "svg");
    for (const [key, value] of [["viewBox", "0 0 24 24"], ["width", "20"], ["height", "20"],
      ["aria-hidden", "true"], ["focusable", "false"]]) {
      svg.setAttribute(key, value);
    }
    const path = document.createElementNS(svgNs, "path");
    path.setAttribute("d", "M12 4v11m-5-5 5 5 5-5M5 19h14");
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2.2");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.appendChild(path);
    return svg;
  }

  const notice = el("div", { id: "ponte-notice", className: "ponte-notice", role: "status", hidden: true });
  const queue = el("div", { id: "ponte-queue", className: "ponte-queue", role: "status", hidden: true });
  const log = el("div", {
    id: "ponte-log",
    className: "ponte-log",
    role: "log",
    "aria-live": "polite",
    "aria-label": t.conversation,
    // Reachable with the keyboard, to scroll a long conversation without a mouse.
    tabindex: "0",
  });
  const input = el("textarea", {
    id: "ponte-input",
    className: "ponte-input",
    rows: "2",
    maxlength: String(MAX_TEXT),
    placeholder: t.placeholder,
    autocomplete: "off",
  });
  const send = el("button", { id: "ponte-send", type: "submit", className: "ponte-send", text: t.send });
  const form = el("form", { id: "ponte-form", className: "ponte-form" }, [
    el("label", { for: "ponte-input", className: "ponte-visually-hidden", text: t.message }),
    input,
    send,
  ]);
  const restart = el("button", { id: "ponte-restart", type: "button", className: "ponte-restart", hidden: true, text: t.restart });
  const panel = el(
    "section",
    { id: "ponte-panel", className: "ponte-panel", role: "dialog", "aria-labelledby": "ponte-title", hidden: true },
    [header, notice, queue, log, restart, form]
  );
  root.appendChild(panel);
  root.appendChild(talk);

  function mount() {
    document.body.appendChild(root);
    for (const opener of document.querySelectorAll("[data-ponte-open]")) {
      opener.addEventListener("click", (event) => {
        event.preventDefault();
        openPanel();
      });
    }
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  // ---------- rendering ----------
  function render(message) {
    if (!message || typeof message.seq !== "number") return;
    if (state.shownSeqs.has(message.seq)) return;
    state.shownSeqs.add(message.seq);
    state.lastSeq = Math.max(state.lastSeq, message.seq);
    const payload = message.payload || {};
    const attachment = payload.attachment && typeof payload.attachment === "object" && payload.attachment.id
      ? payload.attachment
      : null;

    if (message.sender_kind === "requester") {
      const pending = message.client_message_id && state.pending.get(message.client_message_id);
      if (pending) {
        state.pending.delete(message.client_message_id);
        pending.classList.remove("ponte-pending", "ponte-failed");
        pending.dataset.seq = String(message.seq);
        if (W.setMark) W.setMark(pending, message.seq);
        return;
      }
      disableOldOptions();
      append(attachment ? fileBubble("requester", attachment, message.seq) : bubble("requester", message.body, message.seq));
      return;
    }

    switch (payload.event) {
      case "show_article":
        showArticle(payload.article || {}, message.seq);
        return;
      case "collapse_article":
        collapseArticle(payload.article_id);
        return;
      case "open_url":
        openUrl(payload.url);
        return;
      case "handoff":
        if (payload.ticket) showTicket(payload.ticket);
        setStage("waiting");
        return;
      case "grounded_answer":
        finishStream(payload.answer_id, message, payload.citations || []);
        return;
      default:
        break;
    }

    // Their message is here: they are not typing it any more.
    if (message.sender_kind === "attendant" && W.hideTyping) W.hideTyping();
    if (message.sender_kind === "system" && !message.body) return;
    const item = attachment ? fileBubble(message.sender_kind, attachment, message.seq) : bubble(message.sender_kind, message.body, message.seq);
    if (payload.text_key) item.dataset.textKey = payload.text_key;
    const options = Array.isArray(payload.options) ? payload.options : [];
    if (options.length) item.appendChild(optionRow(options));
    if (typeof payload.ticket === "string") showTicket(payload.ticket);
    append(item);
    if (payload.text_key === "offline_notice" || payload.text_key === "offline_custom") {
      showNotice(message.body);
    }
    // Closed by an attendant or by the requester, or said goodbye to by the assistant: over.
    if (payload.text_key === "conversation_closed" || payload.text_key === "goodbye") markFinished();
    if (payload.text_key === "attendant_left") setStage("waiting");
  }

  function bubble(kind, text, seq) {
    const item = el("div", { className: "ponte-message ponte-from-" + kind });
    if (seq) item.dataset.seq = String(seq);
    const label = kind === "requester" ? t.you : kind === "attendant" ? t.attendant : t.assistant;
    item.appendChild(el("span", { className: "ponte-visually-hidden", text: label + ": " }));
    item.appendChild(el("span", { className: "ponte-text", text: text || "" }));
    // The requester's own message, stored: delivered, or read once the desk has seen it.
    if (kind === "requester" && seq && W.setMark) W.setMark(item, seq);
    return item;
  }

  // A file's message says "📎 name" for clients that cannot show files; this one shows the
  // file itself, whoever sent it.
  function fileBubble(kind, attachment, seq) {
    const item = bubble(kind, "", seq);
    item.classList.add("ponte-has-attachment");
    item.appendChild(W.attachmentView(attachment));
    const mark = item.querySelector(".ponte-mark");
    if (mark) item.appendChild(mark); // under the file
    return item;
  }

  // The log follows new messages unless the requester scrolled up to read older ones.
  let following = true;
  log.addEventListener("scroll", () => {
    following = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  });
  function follow() {
    if (following) log.scrollTop = log.scrollHeight;
  }

  // The line that says the conversation ended stays last, with the rating card after it:
  // a resumed conversation is shown ended before its transcript is replayed.
  let endLine = null;
  function append(item) {
    if (endLine && endLine.parentNode === log) log.insertBefore(item, endLine);
    else log.appendChild(item);
    if (item.classList.contains("ponte-from-requester")) following = true;
    follow();
  }

  function systemLine(text) {
    const line = el("div", { className: "ponte-message ponte-system", text });
    append(line);
    return line;
  }

  function optionRow(options) {
    const row = el("div", { className: "ponte-options", role: "group" });
    for (const option of options) {
      const button = el("button", {
        type: "button",
        className: "ponte-option",
        "data-option": option.id,
        text: option.label,
      });
      button.addEventListener("click", () => choose(option.id, button));
      row.appendChild(button);
    }
    return row;
  }

  // Options of earlier replies cannot be chosen any more. An article card stays readable:
  // only its Close, a step of the conversation, goes.
  function disableOldOptions() {
    for (const button of log.querySelectorAll(".ponte-option, .ponte-article-close")) {
      button.disabled = true;
    }
  }

  function showArticle(article, seq) {
    const id = article.id || "";
    const bodyId = "ponte-article-" + seq;
    const toggle = el("button", {
      type: "button",
      className: "ponte-article-title",
      "aria-expanded": "true",
      "aria-controls": bodyId,
      title: t.collapse,
      text: article.title || id,
    });
    const summary = el("p", { id: bodyId, className: "ponte-article-summary", text: article.summary || "" });
    const full = el("div", { id: bodyId + "-body", className: "ponte-article-body", hidden: true });
    const card = el("div", { className: "ponte-message ponte-article", "data-article-id": id, "data-seq": String(seq) }, [
      toggle,
      summary,
      full,
    ]);
    // Reading the article and opening its portal page happen here, without a word to the
    // server: only closing the card is a step of the conversation.
    card.appendChild(W.articleActions(card, article, bodyId + "-body"));
    toggle.addEventListener("click", () => setExpanded(card, toggle.getAttribute("aria-expanded") !== "true"));
    // The text message just before says the same and carries the same choices; the card
    // takes its place.
    const previous = log.lastElementChild;
    if (previous && previous.dataset.textKey === "article_shown") previous.hidden = true;
    state.articles.set(id, card);
    append(card);
  }

  function setExpanded(card, expanded) {
    const toggle = card.querySelector(".ponte-article-title");
    const summary = card.querySelector(".ponte-article-summary");
    toggle.setAttribute("aria-expanded", expanded ? "true" : "false");
    toggle.title = expanded ? t.collapse : t.expand;
    summary.hidden = !expanded;
    if (!expanded) {
      const body = card.querySelector(".ponte-article-body");
      const read = card.querySelector(".ponte-article-read");
      if (body && !body.hidden && read) read.click();
    }
  }

  function collapseArticle(id) {
    const card = state.articles.get(id);
    if (!card) return;
    setExpanded(card, false);
    card.classList.add("ponte-article-closed");
    for (const button of card.querySelectorAll(".ponte-article-close")) button.disabled = true;
    const note = card.querySelector(".ponte-article-note") || el("span", { className: "ponte-article-note" });
    note.textContent = t.articleClosed;
    card.appendChild(note);
  }

  function openUrl(url) {
    if (!url || state.openedUrls.has(url)) return;
    let parsed;
    try {
      parsed = new URL(url, window.location.href);
    } catch (_) {
      return;
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return;
    state.openedUrls.add(url);
    window.open(parsed.toString(), "_blank", "noopener");
  }

  function showTicket(number) {
    ticket.textContent = t.ticket(number);
    ticket.hidden = false;
  }

  function showQueue(position, etaMs) {
    if (!position) {
      queue.hidden = true;
      return;
    }
    const minutes = etaMs ? Math.max(1, Math.round(etaMs / 60000)) : 0;
    queue.textContent = t.queue(position, minutes);
    queue.hidden = false;
    follow();
  }

  // Who answers, in the header: "assistant" (the virtual assistant), "waiting" (queued for a
  // person, or the person left), "person" (`name` is in the chat: filled dot) or "closed".
  const STAGES = ["assistant", "waiting", "person", "closed"];
  function setStage(stage, name) {
    const person = stage === "person" ? name || t.attendant : null;
    for (const each of STAGES) dot.classList.toggle("ponte-dot-" + each, each === stage);
    dot.classList.toggle("ponte-dot-online", stage === "person");
    const [title, line] = {
      assistant: [t.assistant, t.stageAssistant],
      waiting: [t.desk, t.waiting],
      person: [person, t.online],
      closed: [t.desk, t.ended],
    }[stage];
    heading.textContent = title;
    who.textContent = line;
    dot.setAttribute("aria-label", line);
    dot.title = line;
    root.dataset.stage = stage;
  }
  setStage("assistant");

  function showSpecialists(candidates) {
    if (!candidates.length) return;
    const row = el("div", { className: "ponte-options", role: "group" });
    for (const person of candidates) {
      const button = el("button", { type: "button", className: "ponte-option", text: person.name || person.id });
      button.addEventListener("click", async () => {
        for (const other of row.querySelectorAll("button")) other.disabled = true;
        try {
          await api("POST", "/api/conversations/" + encodeURIComponent(state.conversation) + "/specialist", {
            person: person.id,
          });
        } catch (error) {
          showNotice(error.message);
          for (const other of row.querySelectorAll("button")) other.disabled = false;
        }
      });
      row.appendChild(button);
    }
    append(el("div", { className: "ponte-message ponte-from-assistant" }, [el("span", { text: t.specialists }), row]));
  }

  function streamPiece(id, text) {
    if (!id) return;
    let item = state.streams.get(id);
    if (!item) {
      item = bubble("assistant", "", 0);
      item.classList.add("ponte-streaming");
      item.setAttribute("aria-busy", "true");
      state.streams.set(id, item);
      append(item);
    }
    item.querySelector(".ponte-text").textContent += text;
  }

  function dropStream(id) {
    const item = state.streams.get(id);
    if (item) item.remove();
    state.streams.delete(id);
  }

  function finishStream(id, message, citations) {
    const final = bubble("assistant", message.body, message.seq);
    if (citations.length) {
      const list = el("ul", { className: "ponte-citations", "aria-label": t.sources });
      for (const citation of citations) {
        const title = citation.title || citation.id || "";
        const entry = el("li");
        if (citation.url) {
          entry.appendChild(el("a", { href: citation.url, target: "_blank", rel: "noopener", text: title }));
        } else {
          entry.textContent = title;
        }
        list.appendChild(entry);
      }
      final.appendChild(list);
    }
    const streaming = id && state.streams.get(id);
    if (streaming) {
      streaming.replaceWith(final);
      state.streams.delete(id);
    } else {
      append(final);
    }
  }

  // Shows the conversation as ended, once however often the end is told (the status on a
  // resume, then the replayed closing message), and asks for a rating.
  function markFinished() {
    state.finished = true;
    form.hidden = true;
    restart.hidden = false;
    if (!endLine || endLine.parentNode !== log) endLine = systemLine(t.ended);
    setStage("closed");
    queue.hidden = true;
    if (W.offerRating) W.offerRating();
  }

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = false;
    follow();
  }
  function hideNotice() {
    notice.hidden = true;
    notice.textContent = "";
  }

  Object.assign(W, {
    el, mount, render, bubble, fileBubble, follow, append, systemLine,
    optionRow, disableOldOptions, showArticle, setExpanded, collapseArticle, openUrl, showTicket,
    showQueue, setStage, showSpecialists, streamPiece, dropStream, finishStream, markFinished,
    showNotice, hideNotice, stylesheet, root, talk, dot, heading,
    who, ticket, saveButton, closeButton, header, notice, queue, log,
    input, send, form, restart, panel,
  });
})();
