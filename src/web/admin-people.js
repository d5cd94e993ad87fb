// Ponte admin page: the desk's people (id, name, attendant or analyst, groups, channels,
// maximum chats at once) and its projects (owner, assistant, service group), listed and
// written through `PUT /api/desk/people/{id}` and `PUT /api/desk/projects/{id}`. The API
// has no delete for either. Also keeps the page's lists of known groups and person ids
// (datalists other forms suggest from).

import { api, changed, data, reload, segment, splitList } from './admin-api.js';
import { t } from './admin-texts.js';
import { $, el, fieldError, fillSelect, missing, personName, submitting } from './admin-ui.js';

const CHANNELS = [
  ['web_chat', 'channelWeb'],
  ['whatsapp', 'channelWhatsapp'],
];

const channelName = (channel) => {
  const known = CHANNELS.find(([value]) => value === channel);
  return known ? t(known[1]) : channel;
};

// ---------------------------------------------------------------- people

const person = {
  form: () => $('person-form'),
  id: () => $('person-id'),
  name: () => $('person-name'),
  kind: () => $('person-kind'),
  groups: () => $('person-groups'),
  channels: () => $('person-channels'),
  max: () => $('person-max'),
};

function channelBox(channel) {
  return channel === 'web_chat' ? $('person-channel-web') : $('person-channel-whatsapp');
}

function editPerson(found) {
  const form = person.form();
  form.dataset.editing = found ? found.id : '';
  person.id().value = found ? found.id : '';
  person.id().readOnly = Boolean(found);
  person.name().value = found ? found.name : '';
  person.kind().value = found ? found.kind : 'attendant';
  person.groups().value = found ? found.groups.join(', ') : '';
  for (const [channel] of CHANNELS) {
    channelBox(channel).checked = found ? Object.keys(found.channels || {}).includes(channel) : channel === 'web_chat';
  }
  person.max().value = found ? String(found.max_chats) : '3';
  $('person-form-heading').textContent = found ? t('personFormEdit', found.name) : t('personFormNew');
}

function renderPeople() {
  const list = $('people-list');
  list.replaceChildren(...data.people.map((found) => {
    const channels = Object.keys(found.channels || {});
    const meta = [
      t('metaGroups', found.groups.length ? found.groups.join(', ') : t('noGroups')),
      t('metaChannels', channels.length ? channels.map(channelName).join(', ') : t('noChannels')),
      t('metaMax', found.max_chats, found.active_chats || 0),
    ];
    return el('li', { class: 'ad-item', dataset: { personId: found.id } },
      el('div', { class: 'ad-item-main' },
        el('p', { class: 'ad-item-title' },
          el('span', { class: 'ad-strong', text: found.name }), ' ',
          el('span', { class: 'ad-mono ad-muted', text: found.id }), ' ',
          el('span', { class: 'ad-badge', text: t(found.kind === 'analyst' ? 'kindAnalyst' : 'kindAttendant') })),
        ...meta.map((line) => el('p', { class: 'ad-item-meta', text: line }))),
      el('div', { class: 'ad-item-actions' },
        el('button', {
          type: 'button',
          class: 'secondary',
          text: t('edit'),
          'aria-label': t('editOf', found.name),
          onclick: () => {
            editPerson(found);
            person.name().focus();
          },
        })));
  }));
  $('people-empty').hidden = data.people.length > 0;
}

async function savePerson(event) {
  event.preventDefault();
  const form = person.form();
  const max = person.max();
  await submitting(form, async () => {
    if (missing([person.id(), person.name(), max])) return null;
    const maxChats = Number(max.value);
    if (!Number.isInteger(maxChats) || maxChats < 1) {
      fieldError(max, t('maxChatsInvalid'));
      max.focus();
      return null;
    }
    const id = person.id().value.trim();
    const body = {
      name: person.name().value.trim(),
      kind: person.kind().value,
      groups: splitList(person.groups().value),
      channels: CHANNELS.map(([channel]) => channel).filter((channel) => channelBox(channel).checked),
      max_chats: maxChats,
    };
    const saved = await api('PUT', `/api/desk/people/${segment(id)}`, body);
    await reload('people');
    editPerson(data.people.find((candidate) => candidate.id === saved.id) || saved);
    return t('personSaved', saved.name);
  }, {
    field: (error) => {
      if (error.code !== 'invalid_id') return null;
      return person.groups().value.trim() ? person.groups() : person.id();
    },
    messages: { bad_request: t('personNeeds') },
  });
}

// ---------------------------------------------------------------- projects

function peopleOptions() {
  return [['', t('nobody')], ...data.people.map((found) => [found.id, `${found.name} (${found.id})`])];
}

function editProject(found) {
  $('project-form').dataset.editing = found ? found.id : '';
  $('project-id').value = found ? found.id : '';
  $('project-id').readOnly = Boolean(found);
  $('project-name').value = found ? found.name : '';
  fillSelect($('project-owner'), peopleOptions(), found ? found.owner || '' : '');
  fillSelect($('project-assistant'), peopleOptions(), found ? found.assistant || '' : '');
  $('project-group').value = found ? found.service_group || '' : '';
  $('project-form-heading').textContent = found ? t('projectFormEdit', found.name) : t('projectFormNew');
}

function renderProjects() {
  $('projects-list').replaceChildren(...data.projects.map((found) => {
    const meta = [];
    if (found.owner) meta.push(t('metaOwner', personName(data.people, found.owner)));
    if (found.assistant) meta.push(t('metaAssistant', personName(data.people, found.assistant)));
    if (found.service_group) meta.push(t('metaServiceGroup', found.service_group));
    return el('li', { class: 'ad-item', dataset: { projectId: found.id } },
      el('div', { class: 'ad-item-main' },
        el('p', { class: 'ad-item-title' },
          el('span', { class: 'ad-strong', text: found.name }), ' ',
          el('span', { class: 'ad-mono ad-muted', text: found.id })),
        meta.length ? el('p', { class: 'ad-item-meta', text: meta.join(' · ') }) : null),
      el('div', { class: 'ad-item-actions' },
        el('button', {
          type: 'button',
          class: 'secondary',
          text: t('edit'),
          'aria-label': t('editOf', found.name),
          onclick: () => {
            editProject(found);
            $('project-name').focus();
          },
        })));
  }));
  $('projects-empty').hidden = data.projects.length > 0;
  // Owner and assistant choices follow the people; what is chosen stays.
  fillSelect($('project-owner'), peopleOptions());
  fillSelect($('project-assistant'), peopleOptions());
}

async function saveProject(event) {
  event.preventDefault();
  const form = $('project-form');
  await submitting(form, async () => {
    if (missing([$('project-id'), $('project-name')])) return null;
    const id = $('project-id').value.trim();
    const optional = (value) => value.trim() || null;
    const body = {
      name: $('project-name').value.trim(),
      owner: optional($('project-owner').value),
      assistant: optional($('project-assistant').value),
      service_group: optional($('project-group').value),
    };
    const saved = await api('PUT', `/api/desk/projects/${segment(id)}`, body);
    await reload('projects');
    editProject(saved);
    return t('projectSaved', saved.name);
  }, {
    field: (error) => {
      if (error.code !== 'invalid_id') return null;
      return $('project-group').value.trim() ? $('project-group') : $('project-id');
    },
  });
}

// ---------------------------------------------------------------- suggestions

function renderSuggestions() {
  const groups = new Set();
  for (const found of data.people) for (const group of found.groups) groups.add(group);
  for (const found of data.projects) if (found.service_group) groups.add(found.service_group);
  if (data.config) for (const group of Object.keys(data.config.routing.by_group || {})) groups.add(group);
  $('known-groups').replaceChildren(...Array.from(groups).sort().map((group) => el('option', { value: group })));
  $('known-people').replaceChildren(...data.people.map((found) => el('option', { value: found.id, label: found.name })));
}

export function init() {
  person.form().addEventListener('submit', savePerson);
  $('person-new').addEventListener('click', () => {
    editPerson(null);
    person.id().focus();
  });
  $('project-form').addEventListener('submit', saveProject);
  $('project-new').addEventListener('click', () => {
    editProject(null);
    $('project-id').focus();
  });
  changed.addEventListener('change', (event) => {
    if (event.detail === 'people') {
      renderPeople();
      renderProjects();
    }
    if (event.detail === 'projects') renderProjects();
    if (['people', 'projects', 'config'].includes(event.detail)) renderSuggestions();
  });
  editPerson(null);
  editProject(null);
}

/** Back to empty forms (signing out). */
export function reset() {
  editPerson(null);
  editProject(null);
}
