// Ponte's requester chat widget: an article's Markdown body turned into page elements, for
// reading an article inside the chat. Only a safe subset is understood (headings,
// paragraphs, lists, quotes, code, bold, italics, links) and every piece of text becomes a
// text node: markup in an article (<script>, <img onerror=...>) shows as the characters it
// is and never runs. Links go out only to http(s) addresses, in a new tab.
// Loaded by widget.js after widget-texts.js; shares what it owns on window.PonteWidgetParts.
(function () {
  "use strict";
  const W = window.PonteWidgetParts;
  if (!W) return;

  function node(tag, className) {
    const made = document.createElement(tag);
    if (className) made.className = className;
    return made;
  }

  // A link target, or null when it is not a web address (javascript:, data:...).
  function safeHref(raw) {
    try {
      const url = new URL(raw, window.location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.toString() : null;
    } catch (_) {
      return null;
    }
  }

  // Inline spans: `code`, **bold**, *italics* or _italics_, [text](url) and \-escapes.
  const INLINE = /\\([\\`*_[\]()#+\-.!<>])|`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_|\[([^\]]+)\]\(([^)\s]+)\)/g;

  function inline(parent, text) {
    let last = 0;
    for (const match of text.matchAll(INLINE)) {
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      last = match.index + match[0].length;
      const [, escaped, code, bold, starred, underlined, label, href] = match;
      if (escaped !== undefined) {
        parent.appendChild(document.createTextNode(escaped));
      } else if (code !== undefined) {
        const span = node("code");
        span.textContent = code;
        parent.appendChild(span);
      } else if (bold !== undefined) {
        inline(parent.appendChild(node("strong")), bold);
      } else if (starred !== undefined || underlined !== undefined) {
        inline(parent.appendChild(node("em")), starred !== undefined ? starred : underlined);
      } else {
        const target = safeHref(href);
        if (!target) {
          inline(parent, label);
          continue;
        }
        const link = node("a");
        link.href = target;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        inline(link, label);
        parent.appendChild(link);
      }
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
    return parent;
  }

  const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;

  // The body as a fragment. `options.title`: a first heading that only repeats it is left
  // out; `options.top`: the level the article's highest heading gets (the levels below
  // follow without gaps, as screen readers expect).
  function markdown(source, options) {
    const { title = null, top = 3 } = options || {};
    const out = document.createDocumentFragment();
    const lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
    const first = lines.findIndex((line) => line.trim());
    const titleMatch = first >= 0 && HEADING.exec(lines[first]);
    if (title !== null && titleMatch && titleMatch[2].trim() === String(title).trim()) lines[first] = "";
    let highest = 6;
    let fenced = false;
    for (const line of lines) {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
      const heading = !fenced && HEADING.exec(line);
      if (heading) highest = Math.min(highest, heading[1].length);
    }
    let paragraph = [];
    let list = null; // { element, ordered }
    let quote = null;

    function flushParagraph() {
      if (!paragraph.length) return;
      const target = quote || out;
      target.appendChild(inline(node("p"), paragraph.join(" ")));
      paragraph = [];
    }
    function closeBlocks() {
      flushParagraph();
      list = null;
      quote = null;
    }

    for (let index = 0; index < lines.length; index++) {
      const line = lines[index];
      const fence = /^\s*(```|~~~)/.exec(line);
      if (fence) {
        closeBlocks();
        const code = [];
        index++;
        while (index < lines.length && !lines[index].trim().startsWith(fence[1])) code.push(lines[index++]);
        const pre = node("pre");
        pre.appendChild(node("code")).textContent = code.join("\n");
        out.appendChild(pre);
        continue;
      }
      if (!line.trim()) {
        closeBlocks();
        continue;
      }
      const heading = HEADING.exec(line);
      if (heading) {
        closeBlocks();
        const level = Math.min(6, heading[1].length - highest + top);
        out.appendChild(inline(node("h" + level, "ponte-md-heading"), heading[2]));
        continue;
      }
      const item = /^\s*(?:([-*+])|(\d+)[.)])\s+(.*)$/.exec(line);
      if (item) {
        flushParagraph();
        quote = null;
        const ordered = item[2] !== undefined;
        if (!list || list.ordered !== ordered) {
          list = { element: node(ordered ? "ol" : "ul"), ordered };
          if (ordered && item[2] !== "1") list.element.start = Number(item[2]);
          out.appendChild(list.element);
        }
        list.element.appendChild(inline(node("li"), item[3]));
        continue;
      }
      const quoted = /^\s*>\s?(.*)$/.exec(line);
      if (quoted) {
        if (!quote) {
          flushParagraph();
          list = null;
          quote = out.appendChild(node("blockquote"));
        }
        paragraph.push(quoted[1]);
        continue;
      }
      if (list && /^\s+\S/.test(line)) {
        // A continuation of the last list item.
        const last = list.element.lastElementChild;
        last.appendChild(document.createTextNode(" "));
        inline(last, line.trim());
        continue;
      }
      list = null;
      paragraph.push(line.trim());
    }
    flushParagraph();
    return out;
  }

  Object.assign(W, { markdown, safeHref });
})();
