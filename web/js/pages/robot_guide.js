// robot_guide.js — how to create a DingTalk, Feishu / Lark or WeCom robot and
// where its webhook URL and secret go: a page of its own (#/guide) and the
// same words in a dialog from the contact dialog's robots.

import { t } from '../i18n.js';
import { h, append, button, pageHead } from '../dom.js';
import { openDialog } from '../dialog.js';
import { platformIcon } from '../platform.js';

/** The guide's content; level is the heading level of each platform's section (2 or 3). */
function guideContent(level) {
  const H = level === 2 ? 'h2' : 'h3';
  return [
    h('p', null, t('guide.intro')),
    ['dingtalk', 'lark', 'wecom'].map((p) => h('section', { class: 'guide-section' },
      h(H, { class: 'guide-h' }, platformIcon(p, false), ' ', t(`guide.${p}.title`)),
      h('ol', null, t(`guide.${p}.steps`).map((s) => h('li', null, s))))),
    h('p', { class: 'guide-test' }, t('guide.test')),
  ];
}

export function guideDialog() {
  const d = openDialog({ title: t('guide.title'), body: guideContent(3), footer: [button(t('common.close'), () => d.close())], wide: true });
}

export function guidePage(main) {
  append(main, [pageHead([t('nav.guide')], t('guide.title')), h('div', { class: 'guide' }, guideContent(2))]);
}
