// Ponte knowledge page: knowledge managers list, edit, create and delete articles and
// activities, and run a full reindex while watching its progress and per-file errors.
// Plain ES2020, no framework. Every text that comes from a user or the server is put in the
// page with textContent / .value / createElement, never as HTML.
// This file owns the reindex and wires the page; the other knowledge-*.js files, loaded
// before it in order (see knowledge.html), each own one part and share it on
// window.PonteKnowledge.
'use strict';

(() => {
  const K = (window.PonteKnowledge = window.PonteKnowledge || {});
  const { $, el, field, POLL_MS, state, TOKEN_KEY, UI_LANG } = K;
  // Functions of the sibling files, looked up when called (they may load later).
  const api = (...args) => K.api(...args);
  const closeEditor = (...args) => K.closeEditor(...args);
  const handleAuthLoss = (...args) => K.handleAuthLoss(...args);
  const isDirty = (...args) => K.isDirty(...args);
  const loadActivities = (...args) => K.loadActivities(...args);
  const loadArticles = (...args) => K.loadArticles(...args);
  const newDocument = (...args) => K.newDocument(...args);
  const openDocument = (...args) => K.openDocument(...args);
  const remove = (...args) => K.remove(...args);
  const renderList = (...args) => K.renderList(...args);
  const save = (...args) => K.save(...args);
  const selectTab = (...args) => K.selectTab(...args);
  const setArticleLang = (...args) => K.setArticleLang(...args);
  const setMessage = (...args) => K.setMessage(...args);
  const showSigninError = (...args) => K.showSigninError(...args);
  const signIn = (...args) => K.signIn(...args);
  const signOut = (...args) => K.signOut(...args);
  const t = (...args) => K.t(...args);
  const translatePage = (...args) => K.translatePage(...args);
  const updateHeading = (...args) => K.updateHeading(...args);

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

  // The other files call these (see the wrappers at their top).
  Object.assign(K, {
    setReindexBusy, stopPolling, poll, startReindex, findRunningJob, loadReindexHistory, statusLine,
    renderJob,
  });

  // ---------------------------------------------------------------- a draft

  // A draft article the knowledge-gaps page (gaps.js) hands over: once signed in, it opens
  // as a new article, unsaved, for the manager to give an id, write and save.
  const DRAFT_KEY = 'ponte.knowledge.draft';

  function openDraft() {
    if (el.app.hidden) return;
    let draft = null;
    try { draft = JSON.parse(sessionStorage.getItem(DRAFT_KEY) || 'null'); } catch (_) { draft = null; }
    sessionStorage.removeItem(DRAFT_KEY);
    if (!draft || typeof draft !== 'object') return;
    selectTab('article');
    K.openEditor('article', {
      id: '', language: draft.language || UI_LANG, title: String(draft.title || ''), summary: '',
      body: String(draft.body || ''), tags: [], visibility: 'public',
    }, true);
    state.snapshot = '';
    state.dirty = true;
    updateHeading();
    setMessage(t('draftOpened'), 'ok');
    field('id').focus();
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
    signIn(token).then(openDraft);
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
    signIn(stored, { fromStorage: true }).then(openDraft);
  }
  else el.token.focus();
})();
