// events.js — the event types the platform sends (as the server names them):
// a test send picks one, and each has its own templates.

export const EVENT_TYPES = [
  'certificate.application.verification_required',
  'certificate.application.approved',
  'certificate.application.rejected',
  'certificate.issued',
  'certificate.expiring',
  'certificate.expired',
  'certificate.revoked',
  'contact.test',
  'certificate.endpoint_outdated',
  'certificate.endpoint_expiring',
  'certificate.endpoint_error',
  'certificate.renewal_failed',
];
