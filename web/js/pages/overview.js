// overview.js — Overview, the page the console opens on: from GET /v1/stats,
// the deliveries per channel (delivered / failed / dead, stacked bars from
// Chart.js) over the last 24 hours and the last 30 days in the account's time
// zone, each chart with a table of its totals for screen readers; the robots
// and addresses that need attention and the contacts with an address not
// verified, each leading to the contact; the certificates that expire within
// 30 days, soonest first; and when the last scheduled backup was written.
// Chart.js is Debian's, embedded in the server (/assets/vendor/chart.js): it is
// loaded as a classic script the first time the page is drawn.

import { t, fmtTime } from '../i18n.js';
import { h, append, clear, uid, pageHead, selectEl } from '../dom.js';
import { api, errText } from '../api.js';
import { platformIcon, platformName } from '../platform.js';

const CHANNELS = ['email', 'sms', 'dingtalk', 'lark', 'wecom'];
const OUTCOMES = ['delivered', 'failed', 'dead'];

let chartLoading = null;

/** window.Chart, loading the embedded Chart.js once. */
function loadChart() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!chartLoading) {
    chartLoading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/assets/vendor/chart.js';
      s.onload = () => (window.Chart ? resolve(window.Chart) : reject(new Error('Chart.js did not load')));
      s.onerror = () => {
        chartLoading = null;
        reject(new Error('Chart.js did not load'));
      };
      document.head.appendChild(s);
    });
  }
  return chartLoading;
}

/** The theme's colours, read from app.css's custom properties (so a dark theme carries over). */
function theme() {
  const css = getComputedStyle(document.documentElement);
  const v = (name, dflt) => (css.getPropertyValue(name) || '').trim() || dflt;
  return {
    text: v('--text', '#1f2329'), muted: v('--muted', '#646a73'), line: v('--line', '#e3e5e8'),
    delivered: v('--ok', '#137333'), failed: v('--danger', '#c5221f'), dead: v('--muted', '#646a73'),
  };
}

/** Totals of buckets for one channel ('' all): {delivered, failed, dead}. */
function totals(buckets, channel) {
  const out = { delivered: 0, failed: 0, dead: 0 };
  for (const b of buckets) {
    for (const c of channel ? [channel] : CHANNELS) for (const o of OUTCOMES) out[o] += b.channels[c][o];
  }
  return out;
}

/** The screen-reader table of a chart: each channel's delivered / failed / dead and the total. */
function totalsTable(caption, buckets, cls) {
  const all = totals(buckets, '');
  return h('table', { class: cls, 'data-totals': '' },
    h('caption', null, caption),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, t('overview.channel')),
      OUTCOMES.map((o) => h('th', { scope: 'col' }, t(`overview.${o}`))))),
    h('tbody', null,
      CHANNELS.map((c) => {
        const x = totals(buckets, c);
        return h('tr', { 'data-channel': c }, h('th', { scope: 'row' }, t(`overview.ch.${c}`)),
          OUTCOMES.map((o) => h('td', { 'data-outcome': o }, String(x[o]))));
      }),
      h('tr', { 'data-channel': 'all' }, h('th', { scope: 'row' }, t('overview.allChannels')),
        OUTCOMES.map((o) => h('td', { 'data-outcome': o }, String(all[o]))))));
}

/**
 * One chart of a window (hours or days): a channel picker, the stacked bars
 * and the visually hidden table of its totals. Returns {el, draw(Chart)}.
 */
function deliveryChart(kind, buckets, labels, view) {
  const titleId = uid('ch');
  const pick = selectEl([['', t('overview.allChannels')], ...CHANNELS.map((c) => [c, t(`overview.ch.${c}`)])], '', { id: uid('chpick') });
  const canvas = h('canvas', { role: 'img', 'aria-labelledby': titleId, 'data-chart': kind });
  const summary = h('p', { class: 'chart-summary muted', 'aria-live': 'polite' });
  const el = h('section', { class: 'card chart-card', 'aria-labelledby': titleId },
    h('h3', { id: titleId, class: 'h2' }, t(`overview.${kind}Title`)),
    h('div', { class: 'field chart-pick' }, h('label', { for: pick.id, class: 'field-label' }, t('overview.channel')), pick),
    h('div', { class: 'chart-box' }, canvas),
    summary,
    totalsTable(t(`overview.${kind}Table`), buckets, 'sr-only'));
  let chart = null;
  function sumText() {
    const x = totals(buckets, pick.value);
    summary.textContent = t('overview.summary', { delivered: x.delivered, failed: x.failed, dead: x.dead });
  }
  function datasets(c) {
    return OUTCOMES.map((o) => ({
      label: t(`overview.${o}`),
      data: buckets.map((b) => (pick.value ? b.channels[pick.value][o] : CHANNELS.reduce((n, ch) => n + b.channels[ch][o], 0))),
      backgroundColor: c[o],
      stack: 'outcomes',
    }));
  }
  function draw(Chart) {
    if (!view.alive()) return;
    const c = theme();
    const reduce = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    if (chart) chart.destroy();
    chart = new Chart(canvas.getContext('2d'), {
      type: 'bar',
      data: { labels, datasets: datasets(c) },
      options: {
        responsive: true, maintainAspectRatio: false, animation: reduce ? false : { duration: 300 },
        scales: {
          x: { stacked: true, ticks: { color: c.muted, autoSkip: true, maxRotation: 0 }, grid: { display: false } },
          y: { stacked: true, beginAtZero: true, ticks: { color: c.muted, precision: 0 }, grid: { color: c.line } },
        },
        plugins: { legend: { labels: { color: c.text } }, tooltip: { mode: 'index', intersect: false } },
      },
    });
  }
  pick.addEventListener('change', () => {
    sumText();
    if (chart) {
      chart.data.datasets = datasets(theme());
      chart.update();
    }
  });
  sumText();
  return { el, draw };
}

/** A link to the contact in the contact list (found there by its name). */
function contactLink(id, name) {
  return h('a', { href: `#/contacts?q=${encodeURIComponent(name || '')}`, 'data-contact-id': String(id) }, name || `#${id}`);
}

function attentionSection(s) {
  const { robots, addresses } = s.attention;
  const id = uid('att');
  const sec = h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id, class: 'h2' }, t('overview.attention')));
  if (!robots.length && !addresses.length) {
    sec.appendChild(h('p', { class: 'muted' }, t('overview.attentionNone')));
    return sec;
  }
  if (robots.length) {
    sec.appendChild(h('table', { class: 'grid grid-compact', 'data-list': 'robots' },
      h('caption', null, t('overview.brokenRobots')),
      h('thead', null, h('tr', null, ['overview.contact', 'overview.robot', 'overview.problem', 'overview.since'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', null, robots.map((r) => h('tr', null,
        h('th', { scope: 'row', 'data-label': t('overview.contact') }, contactLink(r.contact_id, r.contact_name)),
        h('td', { 'data-label': t('overview.robot') }, h('span', { class: 'bot-name' }, platformIcon(r.platform, true), ' ', platformName(r.platform)), h('div', { class: 'muted mono wrap' }, r.url)),
        h('td', { class: 'wrap', 'data-label': t('overview.problem') }, r.problem),
        h('td', { 'data-label': t('overview.since') }, fmtTime(r.since)))))));
  }
  if (addresses.length) {
    sec.appendChild(h('table', { class: 'grid grid-compact', 'data-list': 'addresses' },
      h('caption', null, t('overview.brokenAddresses')),
      h('thead', null, h('tr', null, ['overview.contact', 'overview.address', 'overview.problem'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', null, addresses.map((a) => h('tr', null,
        h('th', { scope: 'row', 'data-label': t('overview.contact') }, contactLink(a.contact_id, a.contact_name)),
        h('td', { 'data-label': t('overview.address') }, t(a.channel === 'email' ? 'overview.ch.email' : 'overview.ch.sms'), ' ', h('span', { class: 'mono' }, a.address)),
        h('td', { class: 'wrap', 'data-label': t('overview.problem') }, a.problem))))));
  }
  return sec;
}

function unverifiedSection(s) {
  const id = uid('unv');
  const u = s.unverified;
  const state = (v) => (v === null ? t('common.none') : v ? t('status.verified') : t('status.unverified'));
  return h('section', { class: 'card', 'aria-labelledby': id },
    h('h2', { id, class: 'h2' }, t('overview.unverified')),
    h('p', { 'data-count': String(u.contacts) }, t('overview.unverifiedCount', { n: u.contacts })),
    u.list.length ? h('ul', { class: 'plain-list', 'data-list': 'unverified' }, u.list.map((c) => h('li', null,
      contactLink(c.id, c.name), ' ',
      h('span', { class: 'muted' }, t('overview.unverifiedState', { email: state(c.email_verified), mobile: state(c.mobile_verified) }))))) : null,
    u.contacts > u.list.length ? h('p', { class: 'muted' }, t('overview.moreInList', { n: u.contacts - u.list.length })) : null);
}

function expiringSection(s) {
  const id = uid('exp');
  const list = s.certificates.expiring;
  const day = (iso) => new Date(iso).toLocaleDateString(undefined, { timeZone: s.time_zone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return h('section', { class: 'card', 'aria-labelledby': id },
    h('h2', { id, class: 'h2' }, t('overview.expiring')),
    list.length
      ? h('ol', { class: 'timeline', 'data-list': 'expiring' }, list.map((c) => h('li', { class: c.days_left <= 7 ? 'timeline-soon' : null },
        h('time', { datetime: c.not_after, class: 'timeline-date' }, day(c.not_after)),
        h('a', { href: `#/certificates/${c.id}` }, c.name || c.domain),
        ' ', h('span', { class: ['days', c.days_left <= 7 ? 'days-soon' : null] }, t('certs.daysLeft', { n: c.days_left })))))
      : h('p', { class: 'muted' }, t('overview.expiringNone')));
}

function backupSection(s) {
  const id = uid('bak');
  return h('section', { class: 'card', 'aria-labelledby': id },
    h('h2', { id, class: 'h2' }, t('overview.backup')),
    h('p', { 'data-backup': s.backup.last_at || '' }, s.backup.last_at ? t('overview.backupAt', { at: fmtTime(s.backup.last_at) }) : t('overview.backupNone')));
}

export async function overviewPage(main, view) {
  const region = h('div', { class: 'overview', 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('common.loading')));
  append(main, [pageHead([t('nav.overview')], t('overview.title'), t('overview.intro')), region]);
  let s;
  try {
    s = await api('GET', '/v1/stats');
  } catch (e) {
    if (!view.alive()) return;
    clear(region).appendChild(h('p', { class: 'field-error', role: 'alert' }, t('common.error', { message: errText(e) })));
    region.setAttribute('aria-busy', 'false');
    return;
  }
  if (!view.alive()) return;
  const hours = s.deliveries.hours, days = s.deliveries.days;
  const hourChart = deliveryChart('hours', hours, hours.map((x) => x.start.slice(11, 16)), view);
  const dayChart = deliveryChart('days', days, days.map((x) => x.date.slice(5)), view);
  const delId = uid('del');
  clear(region);
  append(region, [
    h('section', { class: 'overview-deliveries', 'aria-labelledby': delId },
      h('h2', { id: delId, class: 'h2' }, t('overview.deliveries')),
      h('p', { class: 'muted' }, t('overview.timeZone', { tz: s.time_zone })),
      h('div', { class: 'chart-grid' }, hourChart.el, dayChart.el)),
    h('div', { class: 'overview-grid' }, attentionSection(s), unverifiedSection(s), expiringSection(s), backupSection(s)),
  ]);
  region.setAttribute('aria-busy', 'false');
  let Chart;
  try {
    Chart = await loadChart();
  } catch (e) {
    if (view.alive()) region.prepend(h('p', { class: 'field-error', role: 'alert' }, t('overview.noCharts')));
    return;
  }
  const drawAll = () => {
    hourChart.draw(Chart);
    dayChart.draw(Chart);
  };
  drawAll();
  // a change of the system's light or dark preference: redrawn in the new colours
  const mq = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)');
  if (mq && mq.addEventListener) {
    const again = () => (view.alive() ? drawAll() : mq.removeEventListener('change', again));
    mq.addEventListener('change', again);
  }
}
