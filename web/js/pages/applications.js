// applications.js — Certificate Applications: the list with a state filter
// and paging, Apply for Certificate (operators; application_apply.js) and
// each application's detail (application_detail.js). #/applications/ID opens
// that application's detail over the list.

import { t, fmtTime } from '../i18n.js';
import { h, append, clear, button, field, selectEl, pageHead, pager } from '../dom.js';
import { fetchPage } from '../api.js';
import { applyDialog } from './application_apply.js';
import { applicationDialog } from './application_detail.js';

export const APP_STATES = ['submitted', 'pending_validation', 'approved', 'issued', 'rejected', 'cancelled'];

// kept while the console is open, so coming back finds the same filter and page
const st = { page: 1, pageSize: 20, state: '' };

export function stateTag(s) {
  return h('span', { class: ['nstatus', `astate-${s}`] }, t(`astate.${s}`));
}

export function domainsText(domains) {
  return (domains || []).map((d) => (typeof d === 'string' ? d : d.name)).join(', ');
}

export async function applicationsPage(main, view) {
  const fState = field({ label: t('apps.state'), input: selectEl([['', t('common.all')], ...APP_STATES.map((s) => [s, t(`astate.${s}`)])], st.state) });
  fState.input.addEventListener('change', () => {
    st.state = fState.input.value;
    st.page = 1;
    load();
  });
  const region = h('div', { class: 'table-region', 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('common.loading')));
  const apply = view.write ? button(t('apps.apply'), () => applyDialog(view, (a) => {
    load();
    applicationDialog(a.id, view, load, a);
  }), 'btn-primary') : null;
  append(main, [pageHead([t('nav.applications')], t('apps.title'), t('apps.intro')),
    h('div', { class: 'filters' }, apply, fState.wrap, button(t('common.refresh'), () => load(), 'btn-small')),
    region]);

  async function load() {
    const r = await fetchPage(region, view, st, '/v1/applications', { state: st.state }, load);
    if (!r) return;
    if (!r.items.length) {
      region.appendChild(h('div', { class: 'empty' }, h('p', null, t(st.state ? 'apps.emptyState' : 'apps.empty'))));
      return;
    }
    region.appendChild(applicationsTable(r.items, view, load));
    region.appendChild(pager(st, r.total, load));
  }
  await load();
  const m = /^#\/applications\/(\d+)/.exec(location.hash || '');
  if (m && view.alive()) applicationDialog(Number(m[1]), view, load);
}

function applicationsTable(items, view, load) {
  const cols = ['ID', t('apps.product'), t('apps.domains'), t('apps.state'), t('common.created'), t('common.actions')];
  return h('table', { class: 'grid' },
    h('caption', { class: 'sr-only' }, t('apps.title')),
    h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, items.map((a) => h('tr', null,
      h('th', { scope: 'row', 'data-label': cols[0], class: 'mono' }, `#${a.id}`),
      h('td', { 'data-label': cols[1] }, a.product, h('br'), h('small', { class: 'muted' }, `${a.brand} · ${a.validation}`)),
      h('td', { 'data-label': cols[2], class: 'wrap' }, domainsText(a.domains)),
      h('td', { 'data-label': cols[3] }, stateTag(a.state)),
      h('td', { 'data-label': cols[4] }, fmtTime(a.created_at)),
      h('td', { class: 'actions', 'data-label': cols[5] },
        button(t('common.details'), () => applicationDialog(a.id, view, load), 'btn-link', { 'aria-label': t('apps.detailsOf', { id: a.id }) }))))));
}
