// Ponte knowledge page: the full reindex. Starting one (or watching the one already
// running), following its progress every POLL_MS until it ends, and showing a job: its
// state and phase, its counters, its progress bar and the files it skipped, with why.
// The last job shows when the page opens.

import { UI_LANG } from './staff-lang.js';
import { api, el, session, state } from './knowledge-base.js';
import { loadActivities, loadArticles } from './knowledge-list.js';
import { t } from './knowledge-texts.js';

const POLL_MS = 500;

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
      if (session.lost(error)) return;
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
    if (session.lost(error)) return;
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

export async function loadReindexHistory() {
  try {
    const { data } = await api('GET', '/api/knowledge/reindex');
    const jobs = (data && data.jobs) || [];
    const running = jobs.find((job) => job.state === 'running');
    if (running) { renderJob(running, false); poll(running.id); }
    else if (jobs.length) renderJob(jobs[0], true);
  } catch (error) {
    session.lost(error);
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


// Signed out: no job shows, none is watched.
export function clearReindex() {
  stopPolling();
  el.reindexStatus.replaceChildren();
  el.reindexProgress.hidden = true;
  el.reindexErrors.replaceChildren();
  el.reindexErrorsHeading.hidden = true;
  setReindexBusy(false);
}

el.reindex.addEventListener('click', () => {
  if (el.reindex.getAttribute('aria-disabled') === 'true') return;
  startReindex();
});
