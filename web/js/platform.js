// platform.js — the robot platforms (DingTalk, Feishu / Lark, WeCom): their
// icons, their names, and which one a pasted webhook URL belongs to.

import { t } from './i18n.js';
import { h } from './dom.js';

const PLATFORM_COLORS = { dingtalk: 'pf-dingtalk', feishu: 'pf-lark', lark: 'pf-lark', wecom: 'pf-wecom' };
const PLATFORM_LETTER = { dingtalk: 'D', feishu: 'F', lark: 'L', wecom: 'W' };

/** The platform's icon (SVG, hidden from screen readers); broken adds a warning mark. */
export function platformIcon(kind, broken) {
  const s = h('svg:svg', { viewBox: '0 0 24 24', width: '22', height: '22', 'aria-hidden': 'true', focusable: 'false', class: ['pf-icon', PLATFORM_COLORS[kind] || 'pf-unknown'] },
    h('svg:rect', { x: '1', y: '1', width: '22', height: '22', rx: '6', class: 'pf-bg' }),
    h('svg:path', { d: 'M6 9.5a3 3 0 0 1 3-3h6a3 3 0 0 1 3 3v4a3 3 0 0 1-3 3h-3.5L8 19v-2.6A3 3 0 0 1 6 13.5z', class: 'pf-fg' }),
    h('svg:text', { x: '12', y: '14.2', 'text-anchor': 'middle', class: 'pf-letter' }, PLATFORM_LETTER[kind] || '?'));
  if (broken) {
    s.appendChild(h('svg:circle', { cx: '19', cy: '5', r: '4.5', class: 'pf-broken' }));
    s.appendChild(h('svg:path', { d: 'M19 2.6v2.9M19 6.8v.4', class: 'pf-broken-mark' }));
  }
  return s;
}

export function platformName(kind) {
  return kind ? t(`platform.${kind}`) : t('bot.unknown');
}

/** The platform of a pasted webhook URL, recognised the way the server checks it (host and path). */
export function detectPlatform(url) {
  let u;
  try {
    u = new URL(String(url).trim());
  } catch (e) {
    return null;
  }
  if (u.protocol !== 'https:') return null;
  const host = u.hostname.toLowerCase();
  if (host === 'oapi.dingtalk.com' && u.pathname === '/robot/send') return 'dingtalk';
  if (host === 'open.feishu.cn' && u.pathname.startsWith('/open-apis/bot/v2/hook/')) return 'feishu';
  if (host === 'open.larksuite.com' && u.pathname.startsWith('/open-apis/bot/v2/hook/')) return 'lark';
  if (host === 'qyapi.weixin.qq.com' && u.pathname === '/cgi-bin/webhook/send') return 'wecom';
  return null;
}

