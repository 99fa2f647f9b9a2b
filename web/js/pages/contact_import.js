// contact_import.js — Contact Management > Import and Export. Import: a CSV
// file of contacts is checked first (a dry run: what each row would do,
// nothing written), then imported; both are jobs (POST /v1/contacts/import)
// the dialog follows to their end with a progress bar (GET
// /v1/contacts/imports/{id}), then shows the counts and the rows of the report,
// paged (GET /v1/contacts/imports/{id}/rows). Admins may trust the file's
// verified columns (audited). Export: the contact list as CSV, masked, or for
// admins with full values (audited, after a confirmation), as a plain download
// of GET /v1/contacts/export.

import { t } from '../i18n.js';
import { h, uid, button, field, selectEl, pager, toast } from '../dom.js';
import { api, errText, errField } from '../api.js';
import { openDialog, confirmDialog } from '../dialog.js';

const POLL_MS = 200; // how often a running job is asked for its progress
const POLL_RETRIES = 5; // polls in a row that may fail to reach the server before the dialog gives up
const SPEAK_MS = 3000; // how often a screen reader hears the progress in words
const ROWS_PAGE = 50;
const COUNTS = [['create', 'created'], ['update', 'updated'], ['unchanged', 'unchanged'], ['refuse', 'refused']];

/** 41000 → "41 000" (the thousands apart by a no-break space, as in both languages' reports). */
function num(n) {
  return Number(n || 0).toLocaleString('en-US').replace(/,/g, '\u00a0');
}

function wait(ms) {
  return new Promise((resolve) => { setTimeout(resolve, ms); });
}

/**
 * The progress of a job: a <progress> named by what runs, indeterminate until
 * the file is parsed, and under it "41 000 / 100 000 rows · 12 000 rows/s ·
 * about 5 s left". A job works in passes: it checks every row ("checked"),
 * then an import writes them ("processed" reaches the total as rows are
 * written); the bar runs over both passes of an import, the words count the
 * rows of the pass under way. A screen reader hears the same words every few
 * seconds and at the end (a polite live region), not at every poll.
 * data-history on the bar lists every value it showed.
 */
function progressView() {
  const labelId = uid('imp-prog');
  const label = h('p', { id: labelId, class: 'import-progress-label' });
  const bar = h('progress', { 'aria-labelledby': labelId, class: 'import-progress-bar' });
  const text = h('p', { class: 'import-progress-text', 'aria-hidden': 'true' });
  const spoken = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
  const wrap = h('div', { class: 'import-progress', hidden: true }, label, bar, text, spoken);
  let first = null; // {at, value}: the first sample of the running job, for the rate
  let spokeAt = 0;
  let history = [];
  let dry = true;

  /** Where job is: {value, max} of the bar, and the pass under way with its rows done. */
  function place(job) {
    const total = Number(job.total) || 0;
    const clamp = (n) => Math.min(Math.max(Number(n) || 0, 0), total);
    const processed = clamp(job.processed);
    if (job.checked === undefined) return { value: processed, max: total, pass: null, done: processed, total };
    const checked = Math.max(clamp(job.checked), processed);
    if (dry) return { value: checked, max: total, pass: null, done: checked, total };
    const writing = checked >= total;
    return { value: checked + processed, max: 2 * total, pass: writing ? 'write' : 'check', done: writing ? processed : checked, total };
  }

  function words(p) {
    const parts = [];
    if (p.pass) parts.push(t(p.pass === 'write' ? 'import.passWrite' : 'import.passCheck'));
    parts.push(t('import.progressRows', { done: num(p.done), total: num(p.total) }));
    const now = performance.now();
    if (first && now - first.at >= 500 && p.value > first.value) {
      const rate = ((p.value - first.value) * 1000) / (now - first.at); // bar units (rows of either pass) a second
      parts.push(t('import.progressRate', { rate: num(Math.round(rate)) }));
      if (p.value < p.max) {
        const left = Math.ceil((p.max - p.value) / rate);
        parts.push(left >= 90 ? t('import.progressLeftMin', { n: Math.round(left / 60) }) : t('import.progressLeft', { n: Math.max(1, left) }));
      }
    }
    return parts.join(' · ');
  }

  return {
    wrap,
    bar,
    start(what, dryRun) {
      dry = dryRun;
      label.textContent = what;
      bar.removeAttribute('value');
      bar.removeAttribute('max');
      text.textContent = t('import.uploading');
      spoken.textContent = what;
      first = null;
      spokeAt = performance.now();
      history = [];
      bar.dataset.history = '';
      wrap.hidden = false;
    },
    /** A job as the server answered: the bar and the words follow it. */
    update(job) {
      const ended = job.state === 'done' || job.state === 'failed';
      const p = place(job);
      if (p.total > 0) {
        if (ended) p.value = p.max;
        bar.max = p.max;
        bar.value = p.value;
        history.push(p.value);
        bar.dataset.history = history.join(',');
        if (!first && job.state === 'running') first = { at: performance.now(), value: p.value };
        text.textContent = words(p);
      } else {
        text.textContent = ended ? '' : t('import.parsing');
      }
      const now = performance.now();
      if (ended || now - spokeAt >= SPEAK_MS) {
        spoken.textContent = ended ? t(job.state === 'done' ? 'import.finished' : 'import.failedShort') : `${label.textContent}: ${text.textContent}`;
        spokeAt = now;
      }
    },
    hide() {
      wrap.hidden = true;
    },
  };
}

/** The text of an error the API gave, with its request id (as the other dialogs show it). */
function errorText(e) {
  return errText(e) + (e && e.requestId ? ` (${t('common.requestId', { id: e.requestId })})` : '');
}

/**
 * The Import dialog (operators and admins; view.admin adds "trust the
 * verified columns"). reload() runs when it closes after an import was started.
 */
export function importDialog(view, reload) {
  const st = { checked: null, running: false, closed: false, imported: false };
  const fileInput = h('input', { type: 'file', accept: '.csv,text/csv' });
  const file = field({ label: t('import.file'), input: fileInput, hint: t('import.fileHint'), required: true });

  const modeName = uid('imp-mode');
  const modeLabel = uid('imp-mode-label');
  const modeRadio = (value, label, hint) => {
    const r = h('input', { type: 'radio', name: modeName, id: uid('imp-mode'), value, checked: value === 'all' });
    const hintId = `${r.id}-hint`;
    r.setAttribute('aria-describedby', hintId);
    return [h('label', { class: 'radio', for: r.id }, r, label), h('p', { id: hintId, class: 'field-hint import-mode-hint' }, hint)];
  };
  const modes = h('div', { class: 'field', role: 'radiogroup', 'aria-labelledby': modeLabel },
    h('span', { id: modeLabel, class: 'field-label' }, t('import.mode')),
    modeRadio('all', t('import.modeAll'), t('import.modeAllHint')),
    modeRadio('skip_bad', t('import.modeSkip'), t('import.modeSkipHint')));
  const mode = () => {
    const c = modes.querySelector(`input[name="${modeName}"]:checked`);
    return c ? c.value : 'all';
  };

  let trust = null;
  let trustWrap = null;
  if (view.admin) {
    trust = h('input', { type: 'checkbox', id: uid('imp-trust') });
    const hintId = `${trust.id}-hint`;
    trust.setAttribute('aria-describedby', hintId);
    trustWrap = h('div', { class: 'field' },
      h('label', { class: 'check', for: trust.id }, trust, t('import.trust')),
      h('p', { id: hintId, class: 'field-hint import-warning' }, t('import.trustHint')));
  }

  const prog = progressView();
  const report = h('div', { class: 'import-report' });
  const check = button(t('import.check'), () => run(true), 'btn-primary');
  const go = button(t('import.import'), () => run(false), null, { disabled: true });
  const close = button(t('common.close'), () => d.close());
  const d = openDialog({
    title: t('import.title'),
    body: [h('p', { class: 'import-intro' }, t('import.intro')), file.wrap, modes, trustWrap, prog.wrap, report],
    footer: [check, go, close],
    wide: true,
    onClose() {
      st.closed = true;
      if (st.imported) reload();
    },
  });

  /** The file or an option changed: an earlier check no longer says what Import would do. */
  function reset() {
    st.checked = null;
    file.error('');
    d.error('');
    report.replaceChildren();
    prog.hide();
    go.disabled = true;
    mainButton(check);
  }
  fileInput.addEventListener('change', reset);
  modes.addEventListener('change', reset);
  if (trust) trust.addEventListener('change', reset);

  /** The button Enter presses and the page shows as the next step. */
  function mainButton(b) {
    for (const x of [check, go]) x.classList.toggle('btn-primary', x === b);
  }

  function setBusy(busy) {
    st.running = busy;
    for (const el of [fileInput, ...modes.querySelectorAll('input'), trust]) if (el) el.disabled = busy;
    check.disabled = busy;
    go.disabled = busy || !importable();
  }

  /**
   * Import is offered after a check of this file with these options that found
   * rows to write and, for "all or nothing", no refused row.
   */
  function importable() {
    const j = st.checked;
    if (!j || j.state !== 'done') return false;
    return j.created + j.updated > 0 && (mode() === 'skip_bad' || j.refused === 0);
  }

  /**
   * Polls job until it ends; null when the dialog closed meanwhile. A poll
   * that did not reach the server (or found it restarting) is tried again a
   * few times: the job runs on without the dialog.
   */
  async function follow(job) {
    let misses = 0;
    for (;;) {
      if (st.closed) return null;
      prog.update(job);
      if (job.state === 'done' || job.state === 'failed') return job;
      await wait(POLL_MS * (1 + misses * 5));
      if (st.closed) return null;
      try {
        job = await api('GET', `/v1/contacts/imports/${encodeURIComponent(job.id)}`);
        misses = 0;
      } catch (e) {
        misses += 1;
        if (misses > POLL_RETRIES || !(e.status === 0 || e.status === 502 || e.status === 503)) throw e;
      }
    }
  }

  async function run(dryRun) {
    if (st.running) return;
    const f = fileInput.files && fileInput.files[0];
    d.error('');
    file.error('');
    if (!f) {
      file.error(t('import.needFile'));
      fileInput.focus();
      return;
    }
    const q = new URLSearchParams({ dry_run: String(dryRun), mode: mode(), trust_verified: String(Boolean(trust && trust.checked)) });
    report.replaceChildren();
    setBusy(true);
    prog.start(dryRun ? t('import.checking') : t('import.importing'), dryRun);
    let job;
    try {
      job = await api('POST', `/v1/contacts/import?${q}`, f, { type: 'text/csv' });
      if (!dryRun) st.imported = true;
      job = await follow(job);
    } catch (e) {
      if (st.closed) return;
      prog.hide();
      setBusy(false);
      // a file the server cannot read is said at the file; anything else above the form
      const fld = errField(e);
      if (fld && fld.toLowerCase() === 'file') {
        file.error(errorText(e));
        fileInput.focus();
      } else {
        d.error(errorText(e));
      }
      return;
    }
    if (!job) return;
    if (dryRun) st.checked = job;
    setBusy(false);
    d.settle(); // what was chosen has been run: closing loses nothing
    if (dryRun) {
      mainButton(importable() ? go : check);
    } else {
      go.disabled = true; // the same file again would change nothing
      mainButton(null);
      toast(job.state === 'done' ? t('import.doneToast', { created: num(job.created), updated: num(job.updated) }) : t('import.failedShort'),
        job.state === 'done' ? null : 'error');
    }
    showReport(job, dryRun);
  }

  /** The counts of job and its rows, refused only at first when there are any. */
  function showReport(job, dryRun) {
    const headId = uid('imp-report');
    const head = h('h3', { id: headId, class: 'import-report-title', tabindex: '-1' },
      dryRun ? t('import.checkResult') : t('import.importResult'));
    let summary;
    if (dryRun && job.refused > 0 && mode() === 'all') {
      summary = h('p', { class: 'form-error' }, t('import.checkRefusedAll', { n: num(job.refused) }));
    } else if (job.state === 'failed') {
      summary = h('p', { class: 'form-error' }, job.error && job.error.message ? job.error.message : t('import.failedShort'));
    } else if (dryRun) {
      summary = h('p', null, job.created + job.updated > 0 ? t('import.checkOk', { n: num(job.total) }) : t('import.checkNothing'));
    } else {
      summary = h('p', null, t('import.importOk', { n: num(job.created + job.updated) }));
    }
    const stat = (label, value, attrs) => h('div', { class: 'import-count' }, h('dt', null, label), h('dd', attrs, value));
    const counts = h('dl', { class: 'import-counts' },
      COUNTS.map(([action, key]) => stat(t(`import.count.${action}`), num(job[key]), { 'data-count': action, class: action === 'refuse' && job[key] > 0 ? 'is-refused' : null })),
      stat(t('import.total'), num(job.total), { 'data-count': 'total' }));
    const facts = job.encoding || (job.ignored_columns && job.ignored_columns.length) ? h('dl', { class: 'facts import-facts' },
      job.encoding ? [h('dt', null, t('import.encoding')), h('dd', null, job.encoding === 'gb18030' ? 'GB18030' : 'UTF-8')] : null,
      job.ignored_columns && job.ignored_columns.length ? [h('dt', null, t('import.ignored')), h('dd', null, job.ignored_columns.join(', '))] : null) : null;
    const rows = rowsView(job, () => d.settle());
    report.replaceChildren(h('section', { class: 'import-result', 'aria-labelledby': headId }, head, summary, counts, facts, rows.wrap));
    head.focus();
    rows.load();
  }
}

/**
 * The rows of a job's report: a filter (refused only / all) and a table,
 * paged. settle() runs after the filter changed (a view, not an edit: closing
 * the dialog need not ask).
 */
function rowsView(job, settle) {
  const st = { page: 1, pageSize: ROWS_PAGE, action: job.refused > 0 ? 'refuse' : '' };
  const filter = field({
    label: t('import.show'),
    input: selectEl([['refuse', t('import.showRefused')], ['', t('import.showAll')]], st.action),
  });
  const region = h('div', { class: 'import-rows' });
  filter.input.addEventListener('change', () => {
    st.action = filter.input.value;
    st.page = 1;
    settle();
    load(true);
  });
  const wrap = h('div', null, filter.wrap, region);

  async function load(focusTable) {
    const q = new URLSearchParams({ offset: String((st.page - 1) * st.pageSize), limit: String(st.pageSize) });
    if (st.action) q.set('action', st.action);
    region.setAttribute('aria-busy', 'true');
    let r;
    try {
      r = await api('GET', `/v1/contacts/imports/${encodeURIComponent(job.id)}/rows?${q}`);
    } catch (e) {
      region.removeAttribute('aria-busy');
      region.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, t('common.error', { message: errorText(e) })));
      return;
    }
    region.removeAttribute('aria-busy');
    if (!r.rows.length) {
      region.replaceChildren(h('p', { class: 'muted' }, st.action ? t('import.noRefused') : t('import.noRows')));
      return;
    }
    const cols = [t('import.row'), t('contacts.name'), t('import.action'), t('import.reason')];
    const table = h('table', { class: 'grid grid-compact import-table' },
      h('caption', { class: 'sr-only' }, t('import.rowsTable')),
      h('thead', null, h('tr', null, cols.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, r.rows.map((x) => h('tr', { 'data-key': String(x.row), 'data-action': x.action },
        h('th', { scope: 'row', 'data-label': cols[0] }, String(x.row)),
        h('td', { 'data-label': cols[1] }, x.name || t('common.none')),
        h('td', { 'data-label': cols[2] }, t(`import.action.${x.action}`)),
        h('td', { 'data-label': cols[3], class: 'wrap' }, reason(x))))));
    // the pager's buttons move the table's focus to the new page's table
    const paging = pager(st, r.total, () => load(true));
    region.replaceChildren(table, paging);
    if (focusTable) {
      table.setAttribute('tabindex', '-1');
      table.focus();
    }
  }
  return { wrap, load: () => load(false) };
}

function reason(x) {
  if (!x.message && !x.code) return t('common.none');
  return [x.message || x.code, x.field ? h('span', { class: 'muted' }, ` (${x.field})`) : null];
}

// ------------------------------------------------------------------ export

/** Starts a download of url (the session cookie goes along on a GET). */
function download(url, name) {
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/**
 * The Export button of the contact list: a small menu (a disclosure) with the
 * CSV masked as the list shows it and, for admins, the CSV with full values
 * behind a confirmation that says it is audited.
 */
export function exportMenu(view) {
  const listId = uid('export-menu');
  const toggle = h('button', { type: 'button', class: 'btn', 'aria-expanded': 'false', 'aria-controls': listId }, t('export.button'),
    h('span', { class: 'caret', 'aria-hidden': 'true' }, '▾'));
  const masked = h('a', { href: '/v1/contacts/export?format=csv', download: 'contacts.csv', class: 'menu-item' }, t('export.csv'));
  const full = view.admin ? h('button', { type: 'button', class: 'menu-item' }, t('export.csvFull')) : null;
  const list = h('ul', { id: listId, class: 'export-menu', hidden: true },
    h('li', null, masked), full ? h('li', null, full) : null);
  const wrap = h('div', { class: 'export' }, toggle, list);

  const show = (open) => {
    list.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
  };
  toggle.addEventListener('click', () => {
    show(list.hidden);
    if (!list.hidden) masked.focus();
  });
  wrap.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !list.hidden) {
      ev.preventDefault();
      show(false);
      toggle.focus();
    }
  });
  // focus gone elsewhere on the page (Tab on, a click outside): the menu closes
  wrap.addEventListener('focusout', (ev) => {
    if (ev.relatedTarget && !wrap.contains(ev.relatedTarget)) show(false);
  });
  const outside = (ev) => {
    if (!wrap.isConnected) document.removeEventListener('click', outside); // the page was left
    else if (!wrap.contains(ev.target)) show(false);
  };
  document.addEventListener('click', outside);
  masked.addEventListener('click', () => {
    show(false);
    toast(t('export.started'));
  });
  if (full) {
    full.addEventListener('click', () => {
      show(false);
      confirmDialog({
        title: t('export.fullTitle'),
        text: t('export.fullText'),
        okLabel: t('export.fullOk'),
        async action() {
          download('/v1/contacts/export?format=csv&full=true', 'contacts.csv');
          toast(t('export.started'));
        },
      });
    });
  }
  return wrap;
}
