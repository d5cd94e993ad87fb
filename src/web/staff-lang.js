// Ponte's staff pages (knowledge, knowledge gaps, reports, bridges): the reader's language and
// the page's translation. The language is the first of the browser's that Ponte speaks
// (pt-BR, es, en), else English; `translator` makes a page's `t(key, ...args)` over its
// tables of texts; `translatePage` fills every [data-i18n], [data-i18n-placeholder] and
// [data-i18n-label] element of the page.

export const LANGS = ['pt-BR', 'es', 'en'];

export function pickLanguage() {
  const wanted = (navigator.languages && navigator.languages.length)
    ? navigator.languages
    : [navigator.language || 'en'];
  for (const tag of wanted) {
    const lower = String(tag || '').toLowerCase();
    if (lower.startsWith('pt')) return 'pt-BR';
    if (lower.startsWith('es')) return 'es';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

export const UI_LANG = pickLanguage();

// `t(key, ...args)` over `tables` ({ en: {...}, 'pt-BR': {...}, es: {...} } each), the first
// that has the key winning: the text in the reader's language, else in English, else
// undefined. A text that is a function is called with `args`.
export function translator(...tables) {
  const find = (lang, key) => {
    for (const table of tables) {
      const value = table[lang] && table[lang][key];
      if (value !== undefined) return value;
    }
    return undefined;
  };
  return (key, ...args) => {
    const mine = find(UI_LANG, key);
    const value = mine !== undefined ? mine : find('en', key);
    return typeof value === 'function' ? value(...args) : value;
  };
}

// Every [data-i18n] element's text, [data-i18n-placeholder] its placeholder and
// [data-i18n-label] its aria-label, in the reader's language; and `title`, when given.
export function translatePage(t, title) {
  document.documentElement.lang = UI_LANG;
  if (title) document.title = title;
  for (const node of document.querySelectorAll('[data-i18n]')) {
    const text = t(node.dataset.i18n);
    if (typeof text === 'string') node.textContent = text;
  }
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  for (const node of document.querySelectorAll('[data-i18n-label]')) {
    node.setAttribute('aria-label', t(node.dataset.i18nLabel));
  }
}
