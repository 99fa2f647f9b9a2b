// roles.js — what a signed-in user's role lets the console offer (the API
// checks the same rules), and the role picker of the keys and users tabs.

import { t } from './i18n.js';
import { selectEl } from './dom.js';

const ROLES = ['admin', 'operator', 'readonly'];

/** Admins and operators change things; readonly users only look. */
export function canWrite(user) {
  return Boolean(user && (user.role === 'admin' || user.role === 'operator'));
}

export function isAdmin(user) {
  return Boolean(user && user.role === 'admin');
}

export function roleSelect(value) {
  return selectEl(ROLES.map((r) => [r, t(`role.${r}`)]), value);
}
