// Ponte's requester chat widget: the satisfaction prompt. When a conversation has ended, a
// card at the end of the log asks the requester for a rating from 1 to 5 (a radio group:
// Tab reaches it, the arrow keys choose) and an optional comment, with Send and Skip. Once
// only: sending or skipping is remembered per conversation in localStorage, and the server's
// `already_rated` counts as sent, so a reload or a resume of the same conversation does not
// ask again. Loaded by widget.js after widget-media.js; shares what it owns on
// window.PonteWidgetParts.
(function () {
  "use strict";
  const W = window.PonteWidgetParts;
  if (!W) return;
  const { base, state, t, el, lang, log, restart } = W;
  // Functions of widget.js, looked up when called (they are defined once every part is loaded).
  const api = (...args) => W.api(...args);

  // The server's limit on a comment (store::MAX_COMMENT, in characters). `maxlength` counts
  // UTF-16 units, never fewer than characters, so a comment the field takes is never refused.
  const MAX_COMMENT = 1000;
  // conversation id -> "sent" | "skipped", the most recent last; a few are enough.
  const ANSWERED_KEY = "ponte.widget.rating." + base;
  const REMEMBERED = 50;

  function answered() {
    try {
      const kept = JSON.parse(window.localStorage.getItem(ANSWERED_KEY) || "{}");
      return kept && typeof kept === "object" ? kept : {};
    } catch (_) {
      return {};
    }
  }

  function remember(conversation, how) {
    const kept = answered();
    delete kept[conversation];
    kept[conversation] = how;
    const ids = Object.keys(kept);
    for (const old of ids.slice(0, Math.max(0, ids.length - REMEMBERED))) delete kept[old];
    try {
      window.localStorage.setItem(ANSWERED_KEY, JSON.stringify(kept));
    } catch (_) {
      /* private mode: the card stays away for this page */
    }
  }

  // Called whenever the widget shows the conversation as ended (markFinished): asks once.
  function offerRating() {
    const conversation = state.conversation;
    if (!conversation || answered()[conversation]) return;
    if (log.querySelector(".ponte-rating")) return;
    log.appendChild(ratingCard(conversation));
    W.follow();
  }

  function ratingCard(conversation) {
    const choices = el("div", { className: "ponte-rating-choices" });
    t.ratingWords.forEach((word, index) => {
      const value = String(index + 1);
      const id = "ponte-rating-" + value;
      choices.appendChild(
        el("span", { className: "ponte-rating-choice" }, [
          el("input", { type: "radio", id, name: "ponte-rating", value, className: "ponte-rating-input" }),
          el("label", { for: id, className: "ponte-rating-label", title: value + " — " + word }, [
            el("span", { text: value, "aria-hidden": "true" }),
            el("span", { className: "ponte-visually-hidden", text: value + " — " + word }),
          ]),
        ])
      );
    });
    const words = t.ratingWords;
    const ends = el("div", { className: "ponte-rating-ends", "aria-hidden": "true" }, [
      el("span", { text: "1 — " + words[0] }),
      el("span", { text: "5 — " + words[words.length - 1] }),
    ]);
    const scale = el("fieldset", { className: "ponte-rating-scale" }, [
      el("legend", { id: "ponte-rating-title", className: "ponte-rating-title", text: t.ratingQuestion }),
      choices,
      ends,
    ]);
    const comment = el("textarea", {
      id: "ponte-rating-comment",
      className: "ponte-rating-comment",
      rows: "2",
      maxlength: String(MAX_COMMENT),
    });
    const problem = el("p", { id: "ponte-rating-problem", className: "ponte-rating-problem", role: "alert", hidden: true });
    const send = el("button", { type: "submit", className: "ponte-rating-send", text: t.ratingSend });
    const skip = el("button", { type: "button", className: "ponte-rating-skip", text: t.ratingSkip });
    const card = el("form", { id: "ponte-rating", className: "ponte-message ponte-rating" }, [
      scale,
      el("label", { for: "ponte-rating-comment", className: "ponte-rating-comment-label", text: t.ratingComment }),
      comment,
      problem,
      el("div", { className: "ponte-rating-actions" }, [send, skip]),
    ]);

    function tell(text) {
      problem.textContent = text;
      problem.hidden = false;
      W.follow();
    }

    // The card goes; the requester's next step is a new conversation.
    function done(how, replacement) {
      remember(conversation, how);
      if (replacement) card.replaceWith(replacement);
      else card.remove();
      if (!restart.hidden) restart.focus();
    }

    card.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = card.querySelector(".ponte-rating-input:checked");
      if (!chosen) {
        tell(t.ratingChoose);
        card.querySelector(".ponte-rating-input").focus();
        return;
      }
      const body = { rating: Number(chosen.value) };
      const text = comment.value.trim();
      if (text) body.comment = text;
      send.disabled = true;
      skip.disabled = true;
      card.setAttribute("aria-busy", "true");
      try {
        await api("POST", "/api/conversations/" + encodeURIComponent(conversation) + "/rating", body);
      } catch (error) {
        if (error.code !== "already_rated") {
          send.disabled = false;
          skip.disabled = false;
          card.removeAttribute("aria-busy");
          // A failed fetch has no status: the network's sentence, not the browser's English.
          tell(error.status ? error.message : window.PonteErrors.text("network", lang, 0));
          return;
        }
      }
      done("sent", el("div", { className: "ponte-message ponte-system ponte-rating-thanks", text: t.ratingThanks }));
    });
    skip.addEventListener("click", () => done("skipped", null));
    return card;
  }

  Object.assign(W, { offerRating, ratingCard, answered, remember, MAX_COMMENT });
})();
