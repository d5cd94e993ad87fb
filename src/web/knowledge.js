// Ponte knowledge page: knowledge managers list, edit, create and delete articles and
// activities, and run a full reindex while watching its progress and per-file errors.
// Plain ES2020, no framework. Every text that comes from a user or the server is put in the
// page with textContent / .value / createElement, never as HTML.
'use strict';

(() => {
  const TOKEN_KEY = 'ponte.token';
  const POLL_MS = 500;
  const LANGS = ['pt-BR', 'es', 'en'];

  // ---------------------------------------------------------------- texts

  const TEXTS = {
    en: {
      pageTitle: 'Ponte · Knowledge',
      skip: 'Skip to content',
      heading: 'Knowledge',
      signOut: 'Sign out',
      signinHeading: 'Sign in',
      signinHint: 'Knowledge managers and administrators sign in with their access token.',
      tokenLabel: 'Access token',
      signIn: 'Sign in',
      signingIn: 'Signing in…',
      tokenEmpty: 'Type your access token.',
      tokenUnknown: 'This access token is not valid. Check it and try again.',
      tokenForbidden: 'This access token does not belong to a knowledge manager or an administrator.',
      sessionEnded: 'Your access token is no longer accepted. Sign in again.',
      signedInAs: 'Signed in',
      documents: 'Documents',
      tabArticles: 'Articles',
      tabActivities: 'Activities',
      filterLabel: 'Filter',
      filterPlaceholder: 'id, title, tag…',
      new: 'New',
      countAll: (n) => (n === 1 ? '1 document' : `${n} documents`),
      countSome: (shown, n) => `${shown} of ${n} shown`,
      loading: 'Loading…',
      emptyList: 'Nothing here yet.',
      noMatch: 'Nothing matches the filter.',
      editorEmpty: 'Editor',
      editorEmptyHint: 'Choose a document from the list or create a new one.',
      editArticle: 'Edit article',
      editActivity: 'Edit activity',
      newArticle: 'New article',
      newActivity: 'New activity',
      unsaved: 'unsaved changes',
      requiredHint: 'Fields marked * are required.',
      fId: 'Id',
      hId: 'No spaces. Cannot be changed after saving.',
      fLanguage: 'Language',
      fTitle: 'Title',
      fTopic: 'Topic',
      hTopic: 'Shared by the translations of one article.',
      fUrl: 'URL',
      fSummary: 'Summary',
      fBody: 'Body (Markdown)',
      fTags: 'Tags',
      hComma: 'Separated by commas.',
      fCategory: 'Category',
      fContract: 'Contract',
      fGroup: 'Assigned group',
      hGroup: 'The team that works the tickets.',
      nameHint: 'Give the name in at least one language.',
      fName: 'Name',
      fDescription: 'Description',
      fExamples: 'Example phrases',
      hExamples: 'One phrase per line: what a requester might write.',
      fVisibility: 'Visibility',
      restricted: 'Groups',
      restrictedHint: 'Only these groups can read it',
      hVisibility: '“public” (or empty) for everyone, or the groups allowed to read it, separated by commas.',
      source: (path) => `Source file: ${path}`,
      save: 'Save',
      saving: 'Saving…',
      close: 'Close',
      delete: 'Delete',
      cancel: 'Cancel',
      confirmDelete: 'Delete',
      confirmReplace: 'Replace',
      askDelete: (kind, id) => `Delete the ${kind} “${id}”? Its source file is removed too. This cannot be undone.`,
      askReplace: (kind, id) => `An ${kind} with the id “${id}” already exists. Replace it with this one?`,
      kindArticle: 'article',
      kindActivity: 'activity',
      created: (id) => `Created “${id}”.`,
      saved: (id) => `Saved “${id}”.`,
      deleted: (id) => `Deleted “${id}”.`,
      needId: 'Give the document an id.',
      badId: 'The id must not contain spaces.',
      notFound: 'This document no longer exists; the list was refreshed.',
      loadFailed: 'Could not load the documents.',
      network: 'The server could not be reached. Check your connection and try again.',
      rateLimited: (s) => `Too many requests. Try again in ${s} s.`,
      serverError: (status) => `The server answered with an error (${status}).`,
      reindexHeading: 'Full reindex',
      reindexHint: 'Rebuilds the search index from the source files. The current index keeps serving until the new one is ready.',
      reindex: 'Reindex',
      reindexing: 'Reindexing…',
      reindexErrors: 'Skipped files',
      lastReindex: 'Last reindex',
      phase: 'Phase',
      phases: { scanning: 'scanning files', indexing: 'indexing documents', committing: 'committing', done: 'done' },
      states: { running: 'running', succeeded: 'succeeded', failed: 'failed' },
      files: 'Files',
      docs: 'Documents',
      articlesN: 'Articles',
      activitiesN: 'Activities',
      skippedN: 'Skipped files',
      failure: 'Failure',
      reindexGone: 'The server no longer knows this reindex (it may have restarted).',
      reindexUnavailable: 'This server has no knowledge source directory to reindex from.',
    },
    'pt-BR': {
      pageTitle: 'Ponte · Conhecimento',
      skip: 'Pular para o conteúdo',
      heading: 'Conhecimento',
      signOut: 'Sair',
      signinHeading: 'Entrar',
      signinHint: 'Gestores de conhecimento e administradores entram com o seu token de acesso.',
      tokenLabel: 'Token de acesso',
      signIn: 'Entrar',
      signingIn: 'Entrando…',
      tokenEmpty: 'Digite o seu token de acesso.',
      tokenUnknown: 'Este token de acesso não é válido. Confira e tente de novo.',
      tokenForbidden: 'Este token de acesso não pertence a um gestor de conhecimento nem a um administrador.',
      sessionEnded: 'O seu token de acesso não é mais aceito. Entre de novo.',
      signedInAs: 'Conectado',
      documents: 'Documentos',
      tabArticles: 'Artigos',
      tabActivities: 'Atividades',
      filterLabel: 'Filtrar',
      filterPlaceholder: 'id, título, tag…',
      new: 'Novo',
      countAll: (n) => (n === 1 ? '1 documento' : `${n} documentos`),
      countSome: (shown, n) => `${shown} de ${n} exibidos`,
      loading: 'Carregando…',
      emptyList: 'Ainda não há nada aqui.',
      noMatch: 'Nada corresponde ao filtro.',
      editorEmpty: 'Editor',
      editorEmptyHint: 'Escolha um documento na lista ou crie um novo.',
      editArticle: 'Editar artigo',
      editActivity: 'Editar atividade',
      newArticle: 'Novo artigo',
      newActivity: 'Nova atividade',
      unsaved: 'alterações não salvas',
      requiredHint: 'Os campos marcados com * são obrigatórios.',
      fId: 'Id',
      hId: 'Sem espaços. Não pode ser alterado depois de salvo.',
      fLanguage: 'Idioma',
      fTitle: 'Título',
      fTopic: 'Tópico',
      hTopic: 'Comum às traduções de um mesmo artigo.',
      fUrl: 'URL',
      fSummary: 'Resumo',
      fBody: 'Corpo (Markdown)',
      fTags: 'Tags',
      hComma: 'Separadas por vírgulas.',
      fCategory: 'Categoria',
      fContract: 'Contrato',
      fGroup: 'Grupo responsável',
      hGroup: 'A equipe que atende os chamados.',
      nameHint: 'Informe o nome em pelo menos um idioma.',
      fName: 'Nome',
      fDescription: 'Descrição',
      fExamples: 'Frases de exemplo',
      hExamples: 'Uma frase por linha: o que um solicitante poderia escrever.',
      fVisibility: 'Visibilidade',
      restricted: 'Grupos',
      restrictedHint: 'Somente estes grupos podem ler',
      hVisibility: '“public” (ou vazio) para todos, ou os grupos que podem ler, separados por vírgulas.',
      source: (path) => `Arquivo de origem: ${path}`,
      save: 'Salvar',
      saving: 'Salvando…',
      close: 'Fechar',
      delete: 'Excluir',
      cancel: 'Cancelar',
      confirmDelete: 'Excluir',
      confirmReplace: 'Substituir',
      askDelete: (kind, id) => `Excluir ${kind} “${id}”? O arquivo de origem também é removido. Não é possível desfazer.`,
      askReplace: (kind, id) => `Já existe ${kind} com o id “${id}”. Substituir?`,
      kindArticle: 'o artigo',
      kindActivity: 'a atividade',
      created: (id) => `“${id}” criado.`,
      saved: (id) => `“${id}” salvo.`,
      deleted: (id) => `“${id}” excluído.`,
      needId: 'Informe um id para o documento.',
      badId: 'O id não pode conter espaços.',
      notFound: 'Este documento não existe mais; a lista foi atualizada.',
      loadFailed: 'Não foi possível carregar os documentos.',
      network: 'Não foi possível falar com o servidor. Verifique a conexão e tente de novo.',
      rateLimited: (s) => `Muitas requisições. Tente de novo em ${s} s.`,
      serverError: (status) => `O servidor respondeu com um erro (${status}).`,
      reindexHeading: 'Reindexação completa',
      reindexHint: 'Reconstrói o índice de busca a partir dos arquivos de origem. O índice atual continua respondendo até o novo ficar pronto.',
      reindex: 'Reindexar',
      reindexing: 'Reindexando…',
      reindexErrors: 'Arquivos ignorados',
      lastReindex: 'Última reindexação',
      phase: 'Fase',
      phases: { scanning: 'lendo arquivos', indexing: 'indexando documentos', committing: 'gravando', done: 'concluída' },
      states: { running: 'em andamento', succeeded: 'concluída com sucesso', failed: 'falhou' },
      files: 'Arquivos',
      docs: 'Documentos',
      articlesN: 'Artigos',
      activitiesN: 'Atividades',
      skippedN: 'Arquivos ignorados',
      failure: 'Falha',
      reindexGone: 'O servidor não conhece mais esta reindexação (pode ter sido reiniciado).',
      reindexUnavailable: 'Este servidor não tem um diretório de origem do conhecimento para reindexar.',
    },
    es: {
      pageTitle: 'Ponte · Conocimiento',
      skip: 'Saltar al contenido',
      heading: 'Conocimiento',
      signOut: 'Cerrar sesión',
      signinHeading: 'Iniciar sesión',
      signinHint: 'Los gestores de conocimiento y los administradores inician sesión con su token de acceso.',
      tokenLabel: 'Token de acceso',
      signIn: 'Iniciar sesión',
      signingIn: 'Iniciando sesión…',
      tokenEmpty: 'Escribe tu token de acceso.',
      tokenUnknown: 'Este token de acceso no es válido. Revísalo e inténtalo de nuevo.',
      tokenForbidden: 'Este token de acceso no pertenece a un gestor de conocimiento ni a un administrador.',
      sessionEnded: 'Tu token de acceso ya no se acepta. Inicia sesión de nuevo.',
      signedInAs: 'Sesión iniciada',
      documents: 'Documentos',
      tabArticles: 'Artículos',
      tabActivities: 'Actividades',
      filterLabel: 'Filtrar',
      filterPlaceholder: 'id, título, etiqueta…',
      new: 'Nuevo',
      countAll: (n) => (n === 1 ? '1 documento' : `${n} documentos`),
      countSome: (shown, n) => `${shown} de ${n} mostrados`,
      loading: 'Cargando…',
      emptyList: 'Todavía no hay nada aquí.',
      noMatch: 'Nada coincide con el filtro.',
      editorEmpty: 'Editor',
      editorEmptyHint: 'Elige un documento de la lista o crea uno nuevo.',
      editArticle: 'Editar artículo',
      editActivity: 'Editar actividad',
      newArticle: 'Nuevo artículo',
      newActivity: 'Nueva actividad',
      unsaved: 'cambios sin guardar',
      requiredHint: 'Los campos marcados con * son obligatorios.',
      fId: 'Id',
      hId: 'Sin espacios. No se puede cambiar después de guardar.',
      fLanguage: 'Idioma',
      fTitle: 'Título',
      fTopic: 'Tema',
      hTopic: 'Común a las traducciones de un mismo artículo.',
      fUrl: 'URL',
      fSummary: 'Resumen',
      fBody: 'Cuerpo (Markdown)',
      fTags: 'Etiquetas',
      hComma: 'Separadas por comas.',
      fCategory: 'Categoría',
      fContract: 'Contrato',
      fGroup: 'Grupo asignado',
      hGroup: 'El equipo que atiende las incidencias.',
      nameHint: 'Indica el nombre en al menos un idioma.',
      fName: 'Nombre',
      fDescription: 'Descripción',
      fExamples: 'Frases de ejemplo',
      hExamples: 'Una frase por línea: lo que podría escribir un solicitante.',
      fVisibility: 'Visibilidad',
      restricted: 'Grupos',
      restrictedHint: 'Solo estos grupos pueden leerlo',
      hVisibility: '“public” (o vacío) para todos, o los grupos que pueden leerlo, separados por comas.',
      source: (path) => `Archivo de origen: ${path}`,
      save: 'Guardar',
      saving: 'Guardando…',
      close: 'Cerrar',
      delete: 'Eliminar',
      cancel: 'Cancelar',
      confirmDelete: 'Eliminar',
      confirmReplace: 'Reemplazar',
      askDelete: (kind, id) => `¿Eliminar ${kind} «${id}»? También se borra su archivo de origen. No se puede deshacer.`,
      askReplace: (kind, id) => `Ya existe ${kind} con el id «${id}». ¿Reemplazarlo?`,
      kindArticle: 'el artículo',
      kindActivity: 'la actividad',
      created: (id) => `«${id}» creado.`,
      saved: (id) => `«${id}» guardado.`,
      deleted: (id) => `«${id}» eliminado.`,
      needId: 'Indica un id para el documento.',
      badId: 'El id no puede contener espacios.',
      notFound: 'Este documento ya no existe; se actualizó la lista.',
      loadFailed: 'No se pudieron cargar los documentos.',
      network: 'No se pudo contactar con el servidor. Revisa la conexión e inténtalo de nuevo.',
      rateLimited: (s) => `Demasiadas solicitudes. Inténtalo de nuevo en ${s} s.`,
      serverError: (status) => `El servidor respondió con un error (${status}).`,
      reindexHeading: 'Reindexación completa',
      reindexHint: 'Reconstruye el índice de búsqueda a partir de los archivos de origen. El índice actual sigue respondiendo hasta que el nuevo esté listo.',
      reindex: 'Reindexar',
      reindexing: 'Reindexando…',
      reindexErrors: 'Archivos omitidos',
      lastReindex: 'Última reindexación',
      phase: 'Fase',
      phases: { scanning: 'leyendo archivos', indexing: 'indexando documentos', committing: 'guardando', done: 'terminada' },
      states: { running: 'en curso', succeeded: 'completada', failed: 'fallida' },
      files: 'Archivos',
      docs: 'Documentos',
      articlesN: 'Artículos',
      activitiesN: 'Actividades',
      skippedN: 'Archivos omitidos',
      failure: 'Fallo',
      reindexGone: 'El servidor ya no conoce esta reindexación (puede haberse reiniciado).',
      reindexUnavailable: 'Este servidor no tiene un directorio de origen del conocimiento para reindexar.',
    },
  };

  function pickLanguage() {
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

  const UI_LANG = pickLanguage();
  const T = TEXTS[UI_LANG];

  function t(key, ...args) {
    const value = T[key] !== undefined ? T[key] : TEXTS.en[key];
    return typeof value === 'function' ? value(...args) : value;
  }

  function translatePage() {
    document.documentElement.lang = UI_LANG;
    for (const el of document.querySelectorAll('[data-i18n]')) {
      const text = t(el.dataset.i18n);
      if (typeof text === 'string') el.textContent = text;
    }
    for (const el of document.querySelectorAll('[data-i18n-placeholder]')) {
      el.placeholder = t(el.dataset.i18nPlaceholder);
    }
  }

  // ---------------------------------------------------------------- elements

  const $ = (id) => document.getElementById(id);
  const el = {
    signin: $('signin'),
    signinForm: $('signin-form'),
    token: $('signin-token'),
    signinSubmit: $('signin-submit'),
    signinError: $('signin-error'),
    signout: $('signout'),
    app: $('knowledge'),
    tabs: [$('kb-tab-articles'), $('kb-tab-activities')],
    panel: $('kb-panel'),
    filter: $('kb-filter'),
    count: $('kb-count'),
    list: $('kb-list'),
    newButton: $('kb-new'),
    editorHeading: $('kb-editor-heading'),
    editorEmpty: $('kb-editor-empty'),
    form: $('kb-editor'),
    save: $('kb-save'),
    cancel: $('kb-cancel'),
    del: $('kb-delete'),
    message: $('kb-message'),
    source: $('kb-source'),
    reindex: $('reindex'),
    reindexStatus: $('reindex-status'),
    reindexProgress: $('reindex-progress'),
    reindexErrors: $('reindex-errors'),
    reindexErrorsHeading: $('reindex-errors-heading'),
    dialog: $('kb-confirm'),
    dialogText: $('kb-confirm-text'),
    dialogYes: $('kb-confirm-yes'),
  };
  const field = (name) => $(`kb-field-${name}`);

  // ---------------------------------------------------------------- state

  const state = {
    token: null,
    kind: 'article', // the tab shown
    items: { article: [], activity: [] },
    loaded: { article: false, activity: false },
    editing: null, // {kind, isNew, original}
    dirty: false,
    busy: false,
    poll: null, // {id, timer}
    rovingId: null,
    snapshot: '',
  };

  // ---------------------------------------------------------------- HTTP

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (_) {
      throw new ApiError(0, 'network', t('network'));
    }
    let data = null;
    const text = await response.text().catch(() => '');
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = null; }
    }
    if (!response.ok) {
      let message = data && typeof data.message === 'string' && data.message ? data.message : '';
      const code = data && typeof data.code === 'string' ? data.code : '';
      if (response.status === 429) {
        const retry = response.headers.get('Retry-After') || '1';
        message = t('rateLimited', retry);
      }
      if (!message) message = t('serverError', response.status);
      throw new ApiError(response.status, code, message);
    }
    return { status: response.status, data };
  }

  // A 401 in the middle of the session: the token was revoked or the server restarted
  // with other tokens. Back to the sign-in form with an explanation.
  function handleAuthLoss(error) {
    if (error instanceof ApiError && error.status === 401 && state.token) {
      signOut(t('sessionEnded'));
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- sign in

  function setSigninBusy(busy) {
    el.signinSubmit.disabled = busy;
    el.signinSubmit.textContent = busy ? t('signingIn') : t('signIn');
  }

  function showSigninError(text) {
    el.signinError.textContent = text || '';
    el.token.setAttribute('aria-invalid', text ? 'true' : 'false');
  }

  async function signIn(token, { fromStorage = false } = {}) {
    state.token = token;
    setSigninBusy(true);
    showSigninError('');
    try {
      const { data } = await api('GET', '/api/knowledge/articles');
      sessionStorage.setItem(TOKEN_KEY, token);
      state.items.article = sortById((data && data.articles) || []);
      state.loaded.article = true;
      enterApp();
    } catch (error) {
      state.token = null;
      sessionStorage.removeItem(TOKEN_KEY);
      let text = error.message;
      if (error.status === 401) text = t('tokenUnknown');
      else if (error.status === 403) text = t('tokenForbidden');
      showSigninError(fromStorage && error.status === 401 ? t('sessionEnded') : text);
      el.signin.hidden = false;
      el.app.hidden = true;
      if (!fromStorage) el.token.focus();
    } finally {
      setSigninBusy(false);
    }
  }

  function enterApp() {
    el.signin.hidden = true;
    el.app.hidden = false;
    el.signout.hidden = false;
    el.token.value = '';
    renderList();
    loadActivities();
    loadReindexHistory();
    el.tabs[state.kind === 'article' ? 0 : 1].focus();
  }

  function signOut(reason) {
    stopPolling();
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    state.items = { article: [], activity: [] };
    state.loaded = { article: false, activity: false };
    closeEditor({ focus: false });
    setMessage('');
    el.list.replaceChildren();
    el.count.textContent = '';
    el.filter.value = '';
    el.reindexStatus.replaceChildren();
    el.reindexProgress.hidden = true;
    el.reindexErrors.replaceChildren();
    el.reindexErrorsHeading.hidden = true;
    setReindexBusy(false);
    el.app.hidden = true;
    el.signout.hidden = true;
    el.signin.hidden = false;
    showSigninError(reason || '');
    el.token.focus();
  }

  // ---------------------------------------------------------------- lists

  function sortById(items) {
    return items.slice().sort((a, b) => String(a.id).localeCompare(String(b.id)));
  }

  async function loadArticles() {
    try {
      const { data } = await api('GET', '/api/knowledge/articles');
      state.items.article = sortById((data && data.articles) || []);
      state.loaded.article = true;
      if (state.kind === 'article') renderList();
    } catch (error) {
      if (!handleAuthLoss(error)) listError(error);
    }
  }

  async function loadActivities() {
    try {
      const { data } = await api('GET', '/api/activities');
      state.items.activity = sortById((data && data.activities) || []);
      state.loaded.activity = true;
      if (state.kind === 'activity') renderList();
    } catch (error) {
      if (!handleAuthLoss(error)) listError(error);
    }
  }

  function listError(error) {
    el.count.textContent = `${t('loadFailed')} ${error.message}`;
  }

  function perLang(map) {
    if (!map || typeof map !== 'object') return '';
    return map[UI_LANG] || map['pt-BR'] || map.es || map.en || '';
  }

  function titleOf(kind, doc) {
    if (kind === 'article') return doc.title || doc.id;
    return perLang(doc.name) || doc.id;
  }

  function visibilityText(visibility) {
    if (Array.isArray(visibility)) return visibility.join(', ');
    return '';
  }

  function haystack(kind, doc) {
    const parts = [doc.id, visibilityText(doc.visibility)];
    if (kind === 'article') {
      parts.push(doc.title, doc.topic, doc.summary, doc.language, doc.url, (doc.tags || []).join(' '));
    } else {
      for (const map of [doc.name, doc.description]) {
        if (map) parts.push(...Object.values(map));
      }
      if (doc.examples) for (const list of Object.values(doc.examples)) parts.push(...(list || []));
      parts.push(doc.category, doc.contract, doc.group);
    }
    return fold(parts.filter(Boolean).join(' \u0001 '));
  }

  function fold(text) {
    return String(text).normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  }

  function renderList() {
    const kind = state.kind;
    const items = state.items[kind];
    const words = fold(el.filter.value.trim()).split(/\s+/).filter(Boolean);
    const shown = words.length
      ? items.filter((doc) => { const text = haystack(kind, doc); return words.every((w) => text.includes(w)); })
      : items;
    const activeId = state.editing && !state.editing.isNew && state.editing.kind === kind
      ? state.editing.original.id : null;

    const rows = shown.map((doc) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'kb-row';
      button.dataset.id = doc.id;
      button.dataset.kind = kind;
      if (doc.id === activeId) button.setAttribute('aria-current', 'true');

      const title = document.createElement('span');
      title.className = 'kb-row-title';
      title.textContent = titleOf(kind, doc);
      if (kind === 'article' && LANGS.includes(doc.language)) title.lang = doc.language;
      const meta = document.createElement('span');
      meta.className = 'kb-row-meta';
      const id = document.createElement('span');
      id.className = 'kb-row-id';
      id.textContent = doc.id;
      meta.append(id);
      const badges = [];
      if (kind === 'article' && doc.language) badges.push(doc.language);
      if (kind === 'activity') {
        const langs = LANGS.filter((l) => doc.name && doc.name[l]);
        if (langs.length) badges.push(langs.join(' · '));
        if (doc.group) badges.push(doc.group);
      }
      const groups = visibilityText(doc.visibility);
      for (const text of badges) {
        const badge = document.createElement('span');
        badge.className = 'kb-badge';
        badge.textContent = text;
        meta.append(badge);
      }
      if (groups) {
        const badge = document.createElement('span');
        badge.className = 'kb-badge kb-badge-restricted';
        badge.textContent = `${t('restricted')}: ${groups}`;
        badge.title = t('restrictedHint');
        meta.append(badge);
      }
      button.append(title, meta);
      li.append(button);
      return li;
    });
    el.list.replaceChildren(...rows);
    // One tab stop for the whole list (the open row, else the last focused, else the
    // first); arrow keys move between rows.
    const buttons = rows.map((li) => li.firstChild);
    const stop = buttons.find((b) => b.dataset.id === activeId)
      || buttons.find((b) => b.dataset.id === state.rovingId)
      || buttons[0];
    for (const b of buttons) b.tabIndex = b === stop ? 0 : -1;

    if (!state.loaded[kind]) el.count.textContent = t('loading');
    else if (!items.length) el.count.textContent = t('emptyList');
    else if (!shown.length) el.count.textContent = t('noMatch');
    else if (shown.length === items.length) el.count.textContent = t('countAll', items.length);
    else el.count.textContent = t('countSome', shown.length, items.length);
  }

  function selectTab(kind, { focus = false } = {}) {
    state.kind = kind;
    for (const tab of el.tabs) {
      const on = tab.dataset.kind === kind;
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      tab.tabIndex = on ? 0 : -1;
      if (on) {
        el.panel.setAttribute('aria-labelledby', tab.id);
        if (focus) tab.focus();
      }
    }
    renderList();
  }

  // ---------------------------------------------------------------- editor

  const ARTICLE_TEXT = ['title', 'topic', 'url', 'summary', 'body'];
  const ACTIVITY_TEXT = ['category', 'contract', 'group'];

  function setMessage(text, kind) {
    el.message.textContent = text || '';
    el.message.classList.toggle('kb-message-error', kind === 'error');
    el.message.classList.toggle('kb-message-ok', kind === 'ok');
  }

  function clearInvalid() {
    for (const input of el.form.querySelectorAll('[aria-invalid="true"]')) {
      input.removeAttribute('aria-invalid');
    }
  }

  function setKindSections(kind) {
    for (const part of el.form.querySelectorAll('.kb-only-article')) part.hidden = kind !== 'article';
    for (const part of el.form.querySelectorAll('.kb-only-activity')) part.hidden = kind !== 'activity';
    // Hidden inputs must not be submitted or validated.
    for (const input of el.form.querySelectorAll('.kb-only-article input, .kb-only-article select, .kb-only-article textarea')) {
      input.disabled = kind !== 'article';
    }
    for (const input of el.form.querySelectorAll('.kb-only-activity input, .kb-only-activity textarea')) {
      input.disabled = kind !== 'activity';
    }
  }

  function updateHeading() {
    const ed = state.editing;
    if (!ed) {
      el.editorHeading.textContent = t('editorEmpty');
      return;
    }
    let text;
    if (ed.isNew) text = ed.kind === 'article' ? t('newArticle') : t('newActivity');
    else text = `${ed.kind === 'article' ? t('editArticle') : t('editActivity')}: ${ed.original.id}`;
    el.editorHeading.textContent = text;
    if (state.dirty) {
      const mark = document.createElement('span');
      mark.className = 'kb-dirty';
      mark.textContent = ` · ${t('unsaved')}`;
      el.editorHeading.append(mark);
    }
  }

  function fillForm(kind, doc) {
    el.form.reset();
    clearInvalid();
    setKindSections(kind);
    field('id').value = doc.id || '';
    const vis = doc.visibility;
    field('visibility').value = Array.isArray(vis) ? vis.join(', ') : (vis || 'public');
    if (kind === 'article') {
      field('language').value = LANGS.includes(doc.language) ? doc.language : UI_LANG;
      for (const name of ARTICLE_TEXT) field(name).value = doc[name] || '';
      field('tags').value = (doc.tags || []).join(', ');
      setArticleLang();
    } else {
      for (const name of ACTIVITY_TEXT) field(name).value = doc[name] || '';
      for (const lang of LANGS) {
        field(`name-${lang}`).value = (doc.name && doc.name[lang]) || '';
        field(`description-${lang}`).value = (doc.description && doc.description[lang]) || '';
        field(`examples-${lang}`).value = ((doc.examples && doc.examples[lang]) || []).join('\n');
      }
    }
    if (doc.source_path) {
      el.source.textContent = t('source', doc.source_path);
      el.source.hidden = false;
    } else {
      el.source.textContent = '';
      el.source.hidden = true;
    }
  }

  // Spell checking and screen readers follow the article's language.
  function setArticleLang() {
    const lang = field('language').value;
    for (const name of ['title', 'summary', 'body', 'tags']) field(name).lang = lang;
  }

  // Every control's value: what the form holds, to tell whether the manager changed it
  // (input events alone miss programmatic edits such as a WebDriver clear()).
  function formSnapshot() {
    return JSON.stringify(Array.from(el.form.elements, (control) => control.value === undefined ? '' : control.value));
  }

  function isDirty() {
    return Boolean(state.editing) && formSnapshot() !== state.snapshot;
  }

  function openEditor(kind, doc, isNew) {
    state.editing = { kind, isNew, original: doc };
    state.dirty = false;
    fillForm(kind, doc);
    state.snapshot = formSnapshot();
    const idInput = field('id');
    idInput.readOnly = !isNew;
    idInput.setAttribute('aria-readonly', isNew ? 'false' : 'true');
    el.del.hidden = isNew;
    el.form.hidden = false;
    el.editorEmpty.hidden = true;
    updateHeading();
    renderList();
  }

  function closeEditor({ focus = true } = {}) {
    const previous = state.editing;
    state.editing = null;
    state.dirty = false;
    el.form.hidden = true;
    el.form.reset();
    el.source.hidden = true;
    el.editorEmpty.hidden = false;
    updateHeading();
    if (el.app.hidden) return;
    renderList();
    if (focus) {
      const row = previous && !previous.isNew && previous.kind === state.kind
        ? rowFor(previous.original.id) : null;
      (row || el.newButton).focus();
    }
  }

  function rowFor(id) {
    for (const row of el.list.querySelectorAll('[data-id]')) {
      if (row.dataset.id === id) return row;
    }
    return null;
  }

  function focusEditor() {
    el.editorHeading.focus({ preventScroll: true });
    const top = el.editorHeading.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight * 0.5) {
      el.editorHeading.scrollIntoView({ block: 'start', behavior: 'auto' });
    }
  }

  async function openDocument(kind, id) {
    const local = state.items[kind].find((doc) => doc.id === id);
    if (local) {
      openEditor(kind, local, false);
      setMessage('');
      focusEditor();
    }
    // Fetch the stored version: another manager may have changed it since the list loaded.
    const path = `/api/knowledge/${kind === 'article' ? 'articles' : 'activities'}/${encodeURIComponent(id)}`;
    try {
      const { data } = await api('GET', path);
      const doc = stripDoc(data);
      const changed = !local || JSON.stringify(local) !== JSON.stringify(doc);
      replaceLocal(kind, doc);
      const ed = state.editing;
      if (ed && ed.kind === kind && !ed.isNew && ed.original.id === id) {
        // Another manager changed it since the list loaded: show the stored version,
        // unless this manager has already started editing.
        if (changed && !isDirty()) openEditor(kind, doc, false);
        else if (!changed) ed.original = doc;
      } else if (!local) {
        openEditor(kind, doc, false);
        setMessage('');
        focusEditor();
      }
    } catch (error) {
      if (handleAuthLoss(error)) return;
      if (error.status === 404) {
        removeLocal(kind, id);
        if (state.editing && state.editing.original.id === id) closeEditor({ focus: false });
        setMessage(t('notFound'), 'error');
        renderList();
      } else {
        setMessage(error.message, 'error');
      }
    }
  }

  function stripDoc(data) {
    const doc = Object.assign({}, data || {});
    delete doc.kind;
    return doc;
  }

  function replaceLocal(kind, doc) {
    const items = state.items[kind].filter((item) => item.id !== doc.id);
    items.push(doc);
    state.items[kind] = sortById(items);
  }

  function removeLocal(kind, id) {
    state.items[kind] = state.items[kind].filter((item) => item.id !== id);
  }

  function newDocument() {
    const kind = state.kind;
    const doc = kind === 'article'
      ? { id: '', language: UI_LANG, title: '', summary: '', body: '', tags: [], visibility: 'public' }
      : { id: '', name: {}, visibility: 'public' };
    openEditor(kind, doc, true);
    setMessage('');
    field('id').focus();
    field('id').scrollIntoView({ block: 'center' });
  }

  const splitList = (text, sep) => text.split(sep).map((s) => s.trim()).filter(Boolean);
  const orNull = (text) => (text.trim() ? text.trim() : null);

  function readVisibility() {
    const text = field('visibility').value.trim();
    if (!text || text.toLowerCase() === 'public') return 'public';
    const groups = splitList(text, /[,;\n]/);
    return groups.length ? groups : 'public';
  }

  // The body to PUT: the stored document (so fields this page does not know survive), with
  // every field of the form laid over it.
  function readForm() {
    const { kind, original } = state.editing;
    const doc = Object.assign({}, original);
    delete doc.kind;
    delete doc.source_path;
    doc.id = field('id').value.trim();
    doc.visibility = readVisibility();
    if (kind === 'article') {
      doc.language = field('language').value;
      doc.title = field('title').value;
      doc.topic = orNull(field('topic').value);
      doc.url = orNull(field('url').value);
      doc.summary = field('summary').value;
      doc.body = field('body').value;
      doc.tags = splitList(field('tags').value, /[,\n]/);
    } else {
      for (const name of ACTIVITY_TEXT) doc[name] = orNull(field(name).value);
      const name = {};
      const description = {};
      const examples = {};
      for (const lang of LANGS) {
        const n = field(`name-${lang}`).value.trim();
        if (n) name[lang] = n;
        const d = field(`description-${lang}`).value.trim();
        if (d) description[lang] = d;
        const e = splitList(field(`examples-${lang}`).value, /\n/);
        if (e.length) examples[lang] = e;
      }
      doc.name = name;
      doc.description = description;
      doc.examples = examples;
    }
    return doc;
  }

  // Points at the field a server message is about, when it names one.
  function markFieldFromMessage(kind, message) {
    const text = String(message).toLowerCase();
    const candidates = kind === 'article'
      ? ['title', 'language', 'visibility', 'url', 'tags', 'topic', 'summary', 'body', 'id']
      : ['name', 'visibility', 'examples', 'description', 'category', 'contract', 'group', 'id'];
    for (const name of candidates) {
      if (new RegExp(`\\b${name}\\b`).test(text)) {
        const input = name === 'name' ? field(`name-${UI_LANG}`) : field(name);
        if (input) input.setAttribute('aria-invalid', 'true');
        return;
      }
    }
  }

  function setBusy(busy) {
    state.busy = busy;
    el.save.disabled = busy;
    el.del.disabled = busy;
    el.save.textContent = busy ? t('saving') : t('save');
  }

  async function save() {
    if (!state.editing || state.busy) return;
    clearInvalid();
    const { kind, isNew } = state.editing;
    const doc = readForm();
    const idInput = field('id');
    if (!doc.id) {
      idInput.setAttribute('aria-invalid', 'true');
      setMessage(t('needId'), 'error');
      idInput.focus();
      return;
    }
    if (/\s/.test(doc.id)) {
      idInput.setAttribute('aria-invalid', 'true');
      setMessage(t('badId'), 'error');
      idInput.focus();
      return;
    }
    if (isNew && state.items[kind].some((item) => item.id === doc.id)) {
      const kindName = kind === 'article' ? t('kindArticle') : t('kindActivity');
      const ok = await confirmDialog(t('askReplace', kindName, doc.id), t('confirmReplace'));
      if (!ok) { idInput.focus(); return; }
    }
    const path = `/api/knowledge/${kind === 'article' ? 'articles' : 'activities'}/${encodeURIComponent(doc.id)}`;
    setBusy(true);
    setMessage('');
    try {
      const { status, data } = await api('PUT', path, doc);
      const stored = stripDoc(data);
      if (!stored.id) stored.id = doc.id;
      replaceLocal(kind, stored);
      openEditor(kind, stored, false);
      setMessage(status === 201 ? t('created', stored.id) : t('saved', stored.id), 'ok');
      selectTab(kind);
    } catch (error) {
      if (handleAuthLoss(error)) return;
      markFieldFromMessage(kind, error.message);
      setMessage(error.message, 'error');
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!state.editing || state.editing.isNew || state.busy) return;
    const { kind, original } = state.editing;
    const id = original.id;
    const kindName = kind === 'article' ? t('kindArticle') : t('kindActivity');
    const ok = await confirmDialog(t('askDelete', kindName, id), t('confirmDelete'));
    if (!ok) { el.del.focus(); return; }
    const path = `/api/knowledge/${kind === 'article' ? 'articles' : 'activities'}/${encodeURIComponent(id)}`;
    setBusy(true);
    try {
      await api('DELETE', path);
      removeLocal(kind, id);
      closeEditor({ focus: false });
      setMessage(t('deleted', id), 'ok');
      el.newButton.focus();
    } catch (error) {
      if (handleAuthLoss(error)) return;
      if (error.status === 404) {
        removeLocal(kind, id);
        closeEditor({ focus: false });
        setMessage(t('notFound'), 'error');
      } else {
        setMessage(error.message, 'error');
      }
    } finally {
      setBusy(false);
    }
  }

  // A modal confirmation: resolves true when the manager confirms.
  function confirmDialog(text, yesLabel) {
    el.dialogText.textContent = text;
    el.dialogYes.textContent = yesLabel;
    const dialog = el.dialog;
    if (typeof dialog.showModal !== 'function') {
      return Promise.resolve(window.confirm(text));
    }
    return new Promise((resolve) => {
      dialog.returnValue = '';
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
      dialog.showModal();
      $('kb-confirm-no').focus();
    });
  }

  // ---------------------------------------------------------------- reindex

  function setReindexBusy(busy) {
    el.reindex.setAttribute('aria-disabled', busy ? 'true' : 'false');
    // Screen readers hear the outcome, not every counter tick.
    el.reindexStatus.setAttribute('aria-busy', busy ? 'true' : 'false');
    el.reindex.textContent = busy ? t('reindexing') : t('reindex');
  }

  function stopPolling() {
    if (state.poll && state.poll.timer) clearTimeout(state.poll.timer);
    state.poll = null;
  }

  function poll(id) {
    stopPolling();
    state.poll = { id, timer: null };
    setReindexBusy(true);
    const tick = async () => {
      if (!state.poll || state.poll.id !== id) return;
      try {
        const { data } = await api('GET', `/api/knowledge/reindex/${encodeURIComponent(id)}`);
        if (!state.poll || state.poll.id !== id) return;
        renderJob(data, false);
        if (data.state === 'running') {
          state.poll.timer = setTimeout(tick, POLL_MS);
        } else {
          stopPolling();
          setReindexBusy(false);
          if (data.state === 'succeeded') {
            loadArticles();
            loadActivities();
          }
        }
      } catch (error) {
        if (handleAuthLoss(error)) return;
        if (error.status === 404) {
          stopPolling();
          setReindexBusy(false);
          statusLine([t('reindexGone')]);
        } else if (state.poll && state.poll.id === id) {
          // Transient (network, 429): keep watching a little slower.
          statusLine([error.message]);
          state.poll.timer = setTimeout(tick, POLL_MS * 4);
        }
      }
    };
    tick();
  }

  async function startReindex() {
    if (state.poll) return;
    setReindexBusy(true);
    try {
      const { data } = await api('POST', '/api/knowledge/reindex');
      renderJob(data, false);
      poll(data.id);
    } catch (error) {
      if (handleAuthLoss(error)) return;
      if (error.status === 409) {
        // One is already running: watch it.
        const running = await findRunningJob();
        if (running) { renderJob(running, false); poll(running.id); return; }
      }
      setReindexBusy(false);
      statusLine([error.status === 503 ? t('reindexUnavailable') : error.message], true);
    }
  }

  async function findRunningJob() {
    try {
      const { data } = await api('GET', '/api/knowledge/reindex');
      return ((data && data.jobs) || []).find((job) => job.state === 'running') || null;
    } catch (_) {
      return null;
    }
  }

  async function loadReindexHistory() {
    try {
      const { data } = await api('GET', '/api/knowledge/reindex');
      const jobs = (data && data.jobs) || [];
      const running = jobs.find((job) => job.state === 'running');
      if (running) { renderJob(running, false); poll(running.id); }
      else if (jobs.length) renderJob(jobs[0], true);
    } catch (error) {
      handleAuthLoss(error);
    }
  }

  function statusLine(lines, isError) {
    const nodes = lines.map((text) => {
      const p = document.createElement('p');
      p.textContent = text;
      return p;
    });
    el.reindexStatus.replaceChildren(...nodes);
    el.reindexStatus.classList.toggle('kb-message-error', Boolean(isError));
  }

  function renderJob(job, isHistory) {
    if (!job) return;
    const phases = t('phases');
    const states = t('states');
    const stateText = states[job.state] || job.state;
    const phaseText = phases[job.phase] || job.phase;

    const head = document.createElement('p');
    head.className = `kb-job-state kb-job-${job.state}`;
    const strong = document.createElement('strong');
    strong.textContent = isHistory ? `${t('lastReindex')}: ${stateText}` : `${t('reindexHeading')}: ${stateText}`;
    head.append(strong);
    if (job.finished_at_ms || job.started_at_ms) {
      const time = document.createElement('span');
      time.className = 'kb-job-time';
      const when = new Date(job.finished_at_ms || job.started_at_ms);
      time.textContent = ` · ${when.toLocaleString(UI_LANG)}`;
      head.append(time);
    }

    const dl = document.createElement('dl');
    dl.className = 'kb-counters';
    const add = (label, value) => {
      const wrap = document.createElement('div');
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = value;
      wrap.append(dt, dd);
      dl.append(wrap);
    };
    add(t('phase'), phaseText);
    add(t('files'), `${job.files_scanned ?? 0} / ${job.files_total ?? 0}`);
    add(t('docs'), `${job.documents_indexed ?? 0} / ${job.documents_total ?? 0}`);
    if (job.articles != null) add(t('articlesN'), String(job.articles));
    if (job.activities != null) add(t('activitiesN'), String(job.activities));
    if (job.state !== 'running') add(t('skippedN'), String((job.errors || []).length));

    const nodes = [head, dl];
    if (job.failure) {
      const fail = document.createElement('p');
      fail.className = 'kb-job-failure';
      fail.textContent = `${t('failure')}: ${job.failure}`;
      nodes.push(fail);
    }
    el.reindexStatus.replaceChildren(...nodes);
    el.reindexStatus.classList.remove('kb-message-error');

    // Progress: scanning counts files, indexing counts documents.
    const progress = el.reindexProgress;
    if (job.state === 'running') {
      progress.hidden = false;
      if (job.phase === 'scanning' && job.files_total) {
        progress.max = job.files_total;
        progress.value = job.files_scanned || 0;
      } else if (job.phase === 'indexing' && job.documents_total) {
        progress.max = job.documents_total;
        progress.value = job.documents_indexed || 0;
      } else if (job.phase === 'committing') {
        progress.max = 1;
        progress.value = 1;
      } else {
        progress.removeAttribute('value');
      }
    } else {
      progress.hidden = true;
    }

    const errors = job.errors || [];
    const items = errors.map((error) => {
      const li = document.createElement('li');
      const where = document.createElement('code');
      where.textContent = error.line != null ? `${error.file}:${error.line}` : String(error.file);
      li.append(where, document.createTextNode(`: ${error.reason}`));
      return li;
    });
    el.reindexErrors.replaceChildren(...items);
    el.reindexErrorsHeading.hidden = errors.length === 0;
  }

  // ---------------------------------------------------------------- events

  el.signinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = el.token.value.trim();
    if (!token) {
      showSigninError(t('tokenEmpty'));
      el.token.focus();
      return;
    }
    signIn(token);
  });

  el.signout.addEventListener('click', () => signOut(''));

  for (const tab of el.tabs) {
    tab.addEventListener('click', () => selectTab(tab.dataset.kind));
    tab.addEventListener('keydown', (event) => {
      const index = el.tabs.indexOf(tab);
      let next = null;
      if (event.key === 'ArrowRight' || event.key === 'ArrowDown') next = el.tabs[(index + 1) % el.tabs.length];
      else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') next = el.tabs[(index + el.tabs.length - 1) % el.tabs.length];
      else if (event.key === 'Home') next = el.tabs[0];
      else if (event.key === 'End') next = el.tabs[el.tabs.length - 1];
      if (next) {
        event.preventDefault();
        selectTab(next.dataset.kind, { focus: true });
      }
    });
  }

  el.filter.addEventListener('input', () => renderList());
  el.filter.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && el.filter.value) {
      el.filter.value = '';
      renderList();
    } else if (event.key === 'ArrowDown') {
      const first = el.list.querySelector('[data-id]');
      const stop = el.list.querySelector('[data-id][tabindex="0"]') || first;
      if (stop) { event.preventDefault(); stop.focus(); }
    }
  });

  el.list.addEventListener('click', (event) => {
    const row = event.target.closest('[data-id]');
    if (row && el.list.contains(row)) openDocument(row.dataset.kind, row.dataset.id);
  });
  // Rows are buttons (Enter and Space open them natively); arrows move between rows.
  el.list.addEventListener('keydown', (event) => {
    const row = event.target.closest('[data-id]');
    if (!row) return;
    const rows = Array.from(el.list.querySelectorAll('[data-id]'));
    const index = rows.indexOf(row);
    let next = null;
    if (event.key === 'ArrowDown') next = rows[index + 1];
    else if (event.key === 'ArrowUp') next = index > 0 ? rows[index - 1] : el.filter;
    else if (event.key === 'Home') next = rows[0];
    else if (event.key === 'End') next = rows[rows.length - 1];
    if (next) {
      event.preventDefault();
      if (next !== el.filter) {
        row.tabIndex = -1;
        next.tabIndex = 0;
        state.rovingId = next.dataset.id;
      }
      next.focus();
    }
  });
  el.list.addEventListener('focusin', (event) => {
    const row = event.target.closest('[data-id]');
    if (!row) return;
    state.rovingId = row.dataset.id;
    for (const other of el.list.querySelectorAll('[data-id]')) other.tabIndex = other === row ? 0 : -1;
  });

  el.newButton.addEventListener('click', newDocument);
  el.form.addEventListener('submit', (event) => { event.preventDefault(); save(); });
  const markDirty = () => {
    const dirty = isDirty();
    if (dirty !== state.dirty) { state.dirty = dirty; updateHeading(); }
  };
  el.form.addEventListener('input', markDirty);
  el.form.addEventListener('change', markDirty);
  field('language').addEventListener('change', setArticleLang);
  el.cancel.addEventListener('click', () => { setMessage(''); closeEditor(); });
  el.del.addEventListener('click', remove);
  el.form.addEventListener('keydown', (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === 's') { event.preventDefault(); save(); }
  });

  el.reindex.addEventListener('click', () => {
    if (el.reindex.getAttribute('aria-disabled') === 'true') return;
    startReindex();
  });

  // ---------------------------------------------------------------- start

  translatePage();
  const stored = sessionStorage.getItem(TOKEN_KEY);
  if (stored) {
    // Verify quietly; the form comes back only if the token is refused.
    el.signin.hidden = true;
    signIn(stored, { fromStorage: true });
  }
  else el.token.focus();
})();
