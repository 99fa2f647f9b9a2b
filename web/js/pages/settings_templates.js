// settings_templates.js — Settings > Templates: pick an event, a channel and a
// language; edit the title and body (read-only for readonly users), with a
// live preview rendered by the server as it would be sent; save it as the
// account's own or restore the built-in one.

import { LANGS, t, lang } from '../i18n.js';
import { h, append, clear, button, field, selectEl, toast } from '../dom.js';
import { api, errText, errField } from '../api.js';
import { EVENT_TYPES } from '../events.js';

const TEMPLATE_VARS = ['domains', 'brand', 'type', 'not_after', 'days_left', 'expires_in', 'order_id',
  'reason', 'url', 'certificate_id', 'serial', 'contact_name', 'event_type'];

// the template picked last, picked again when the tab comes back; the
// language starts as the user's own
const st = { event: 'certificate.expiring', channel: 'robot', language: null };

export async function templatesTab(panel, view) {
  if (!st.language) st.language = LANGS.includes(lang()) ? lang() : 'en';
  const fEvent = field({ label: t('tpl.event'), input: selectEl(EVENT_TYPES.map((e) => [e, `${t(`event.${e}`)} (${e})`]), st.event) });
  const fChannel = field({ label: t('tpl.channel'), input: selectEl(['email', 'sms', 'robot'].map((c) => [c, t(`tchannel.${c}`)]), st.channel) });
  const fLang = field({ label: t('tpl.language'), input: selectEl(LANGS.map((l) => [l, t(`lang.${l}`)]), st.language) });
  const fTitle = field({ label: t('tpl.titleField'), input: h('input', { type: 'text', maxlength: '200', spellcheck: 'false' }) });
  const fBody = field({ label: t('tpl.body'), input: h('textarea', { rows: '8', maxlength: '4000', spellcheck: 'false' }), hint: t('tpl.variables', { vars: TEMPLATE_VARS.map((v) => `{{${v}}}`).join(' ') }) });
  const kind = h('span', { class: 'badge' });
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  if (!view.write) {
    fTitle.input.readOnly = true;
    fBody.input.readOnly = true;
  }
  const save = view.write ? button(t('common.save'), doSave, 'btn-primary') : null;
  const restore = view.write ? button(t('tpl.restore'), doRestore) : null;
  let current = null;
  let timer = null;
  let pseq = 0;
  append(panel, [
    h('p', { class: 'page-intro' }, t('tpl.intro')),
    h('div', { class: 'filters' }, fEvent.wrap, fChannel.wrap, fLang.wrap),
    h('div', { class: 'tpl-grid' },
      h('div', { class: 'tpl-edit' }, h('p', null, kind), fTitle.wrap, fBody.wrap, h('div', { class: 'toolbar' }, save, restore)),
      h('section', { class: 'tpl-preview', 'aria-labelledby': 'tpl-preview-h' }, h('h2', { id: 'tpl-preview-h', class: 'h2' }, t('tpl.preview')), preview)),
  ]);
  for (const [f, k] of [[fEvent, 'event'], [fChannel, 'channel'], [fLang, 'language']]) {
    f.input.addEventListener('change', () => {
      st[k] = f.input.value;
      load();
    });
  }
  for (const f of [fTitle, fBody]) f.input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(runPreview, 300);
  });
  const path = () => `/v1/templates/${encodeURIComponent(st.event)}/${st.channel}/${st.language}`;

  /** An API error goes to the field it names (the body when it names none). */
  function showError(e) {
    (errField(e) === 'Title' ? fTitle : fBody).error(errText(e));
  }

  async function load() {
    fTitle.error('');
    fBody.error('');
    try {
      current = await api('GET', path());
    } catch (e) {
      fBody.error(errText(e));
      return;
    }
    fTitle.input.value = current.title;
    fBody.input.value = current.body;
    paintKind();
    runPreview();
  }

  function paintKind() {
    kind.textContent = current && current.custom ? t('tpl.custom') : t('tpl.builtin');
    kind.className = `badge ${current && current.custom ? 'badge-ok' : ''}`;
    if (restore) restore.disabled = !(current && current.custom);
  }

  async function runPreview() {
    pseq += 1;
    const my = pseq;
    const body = { event_type: st.event, channel: st.channel, language: st.language, title: fTitle.input.value, body: fBody.input.value };
    let r;
    try {
      r = await api('POST', '/v1/templates/preview', body);
    } catch (e) {
      if (my !== pseq) return;
      showError(e);
      return;
    }
    if (my !== pseq) return;
    fTitle.error('');
    fBody.error('');
    const forms = Array.isArray(r.sent) ? r.sent : ['title', 'text'];
    clear(preview);
    const formName = (form) => t(`tform.${form}`);
    preview.appendChild(h('p', { class: 'muted' }, t('tpl.sent', { forms: forms.map(formName).join(t('tpl.listSep')) }), r.unsaved ? ` · ${t('tpl.unsaved')}` : ''));
    for (const form of forms) {
      if (typeof r[form] !== 'string') continue;
      preview.appendChild(h('h3', { class: 'h3' }, formName(form)));
      preview.appendChild(h('pre', { class: 'preview-text' }, r[form]));
    }
  }

  async function doSave() {
    fTitle.error('');
    fBody.error('');
    save.disabled = true;
    try {
      current = await api('PUT', path(), { title: fTitle.input.value, body: fBody.input.value });
      paintKind();
      runPreview();
      toast(t('common.saved'));
    } catch (e) {
      showError(e);
    }
    save.disabled = false;
  }

  async function doRestore() {
    try {
      await api('DELETE', path());
      toast(t('tpl.restored'));
      load();
    } catch (e) {
      fBody.error(errText(e));
    }
  }
  load();
}
