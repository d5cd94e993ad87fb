// Ponte — attendants' console: the reader's language (pt-BR, es or en, from the browser),
// `t` to look a text up by key and fill its `{name}` slots, the labels of pause and close
// reasons (the desk configuration's own first), and translating the page's static markup
// (data-i18n attributes).

import en from "./console-texts-en.js";
import es from "./console-texts-es.js";
import ptBr from "./console-texts-pt-br.js";
import { state } from "./console-state.js";

const TABLES = { en, es, "pt-BR": ptBr };

function pickLanguage() {
  const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  const first = String(wanted[0] || "en").toLowerCase();
  if (first.startsWith("pt")) return "pt-BR";
  if (first.startsWith("es")) return "es";
  return "en";
}

export const LANG = pickLanguage();

export function t(key, vars) {
  let text = TABLES[LANG][key] ?? en[key] ?? key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (_, name) => (vars[name] !== undefined ? String(vars[name]) : ""));
  return text;
}

// Pause and close reasons are configuration keys (`break`, `no_response`): the page shows
// each with the label the desk configuration gives it in the page's language, else the
// page's own word for a known key; any other key reads as words ("after_hours" →
// "After hours") rather than as a key.
const REASONS = {
  break: { en: "Break", "pt-BR": "Intervalo", es: "Descanso" },
  lunch: { en: "Lunch", "pt-BR": "Almoço", es: "Almuerzo" },
  meeting: { en: "Meeting", "pt-BR": "Reunião", es: "Reunión" },
  training: { en: "Training", "pt-BR": "Treinamento", es: "Capacitación" },
  resolved: { en: "Resolved", "pt-BR": "Resolvido", es: "Resuelto" },
  no_response: { en: "No response from the requester", "pt-BR": "Sem resposta do solicitante", es: "Sin respuesta del solicitante" },
  duplicate: { en: "Duplicate", "pt-BR": "Duplicado", es: "Duplicado" },
  other: { en: "Other", "pt-BR": "Outro", es: "Otro" },
};

export function reasonLabel(key) {
  const labels = state.config && state.config.reason_labels;
  const configured = labels && labels[key] && labels[key][LANG];
  if (typeof configured === "string" && configured.trim()) return configured;
  const known = REASONS[key];
  if (known) return known[LANG] || known.en;
  const words = String(key || "").replace(/[_-]+/g, " ").trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : "";
}

export function channelLabel(channel) {
  const key = `channel_${channel}`;
  const text = t(key);
  return text === key ? channel : text;
}

export function translatePage() {
  document.documentElement.lang = LANG;
  document.title = "Ponte — " + t("app_title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.setAttribute("placeholder", t(node.dataset.i18nPlaceholder));
}
