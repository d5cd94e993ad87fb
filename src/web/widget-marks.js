// Ponte's requester chat widget: what each side sees of the other besides its messages.
// Typing: while the requester types in a chat with the desk (queued or served), the server
// is told at most every 3 s; the desk's typing shows under the log ("Ana está digitando…"
// with three dots) until their message arrives or 5 s pass without another. Marks: each of
// the requester's stored messages carries one check (delivered) or two (read by the desk),
// with their words for screen readers; the desk's read position comes with the conversation
// on a resume and live after. Reading: while the chat is open and the page visible, the
// server is told how far the requester has been shown the conversation. Loaded by widget.js
// after widget-rating.js; shares what it owns on window.PonteWidgetParts.
(function () {
  "use strict";
  const W = window.PonteWidgetParts;
  if (!W) return;
  const { state, t, el, root, panel, log, input, form, restart } = W;
  // Functions of widget.js, looked up when called (they are defined once every part is loaded).
  const api = (...args) => W.api(...args);

  const TYPING_EVERY_MS = 3000;
  const TYPING_SHOWN_MS = 5000;
  const path = (what) => "/api/conversations/" + encodeURIComponent(state.conversation) + "/" + what;
  // Typing, read marks and reading mean something only once the desk is in the chat.
  const withDesk = () => root.dataset.stage === "waiting" || root.dataset.stage === "person";

  // ---------- the desk typing ----------
  const typingText = el("span", { className: "ponte-typing-text" });
  const dots = el("span", { className: "ponte-typing-dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]);
  const typingLine = el("div", { id: "ponte-typing", className: "ponte-typing", role: "status", hidden: true }, [dots, typingText]);
  panel.insertBefore(typingLine, restart);
  let typingTimer = 0;

  function showTyping(name) {
    typingText.textContent = t.typing(name || t.attendant);
    typingLine.hidden = false;
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(hideTyping, TYPING_SHOWN_MS);
    W.follow();
  }

  function hideTyping() {
    window.clearTimeout(typingTimer);
    typingLine.hidden = true;
    typingText.textContent = "";
  }

  // ---------- the requester typing ----------
  let typingSent = 0;
  input.addEventListener("input", () => {
    if (!state.conversation || state.finished || !withDesk() || !input.value.trim()) return;
    const now = Date.now();
    if (now - typingSent < TYPING_EVERY_MS) return;
    typingSent = now;
    api("POST", path("typing")).catch(() => {
      /* typing is a courtesy: nothing to tell the requester */
    });
  });
  // The next keystroke after a message says it again at once.
  form.addEventListener("submit", () => {
    typingSent = 0;
  });

  // ---------- marks on the requester's messages ----------
  state.deskRead = 0;

  function checks(count) {
    const svgNs = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(svgNs, "svg");
    for (const [key, value] of [["viewBox", "0 0 22 14"], ["width", "20"], ["height", "13"],
      ["aria-hidden", "true"], ["focusable", "false"]]) {
      svg.setAttribute(key, value);
    }
    for (let index = 0; index < count; index++) {
      const check = document.createElementNS(svgNs, "path");
      const x = index * 6;
      check.setAttribute("d", "M" + (1 + x) + " 7.5l3.5 3.5L" + (13 + x) + " 2.5");
      check.setAttribute("fill", "none");
      check.setAttribute("stroke", "currentColor");
      check.setAttribute("stroke-width", "2");
      check.setAttribute("stroke-linecap", "round");
      check.setAttribute("stroke-linejoin", "round");
      svg.appendChild(check);
    }
    return svg;
  }

  function paint(mark) {
    const read = Number(mark.dataset.markSeq) <= state.deskRead;
    const wanted = read ? "read" : "delivered";
    if (mark.dataset.state === wanted) return;
    mark.dataset.state = wanted;
    mark.classList.toggle("ponte-mark-read", read);
    const words = read ? t.seen : t.delivered;
    mark.setAttribute("aria-label", words);
    mark.title = words;
    mark.replaceChildren(checks(read ? 2 : 1));
  }

  // The requester's message `item`, stored as `seq`: its mark, last in the bubble.
  function setMark(item, seq) {
    const mark = item.querySelector(".ponte-mark") || el("span", { className: "ponte-mark", role: "img" });
    mark.dataset.markSeq = String(seq);
    item.appendChild(mark);
    paint(mark);
    // The bubble grew by its mark: keep the log's end in view.
    if (item.parentNode) W.follow();
  }

  // The desk has read up to `seq` (it only grows).
  function deskRead(seq) {
    if (!(typeof seq === "number" && seq > state.deskRead)) return;
    state.deskRead = seq;
    for (const mark of log.querySelectorAll(".ponte-mark:not(.ponte-mark-read)")) paint(mark);
  }

  // ---------- the requester reading ----------
  let readTold = 0;
  let telling = false;

  async function markSeen() {
    if (telling || !state.conversation || panel.hidden || document.visibilityState !== "visible") return;
    if (!withDesk() && root.dataset.stage !== "closed") return;
    const seq = state.lastSeq;
    if (!(seq > readTold)) return;
    const conversation = state.conversation;
    telling = true;
    let told = false;
    try {
      await api("POST", path("read"), { seq });
      told = true;
    } catch (_) {
      /* told again with the next message */
    } finally {
      telling = false;
    }
    if (!told || conversation !== state.conversation) return;
    readTold = Math.max(readTold, seq);
    if (state.lastSeq > readTold) markSeen();
  }
  document.addEventListener("visibilitychange", markSeen);

  // A new conversation starts with nothing read on either side.
  function resetMarks(requesterRead) {
    state.deskRead = 0;
    readTold = requesterRead || 0;
    hideTyping();
  }

  Object.assign(W, {
    showTyping, hideTyping, setMark, deskRead, markSeen, resetMarks, typingLine,
  });
})();
