import { z } from 'zod';
import { env, none, secret } from '../variable';
import { bool, int, url } from '../parsers';

/** How far the scheduled jobs reach, and the outside services the jobs talk to. */
export const JOBS = {
  noShowLookbackHours: env('NO_SHOW_LOOKBACK_HOURS', int(1, 2_160), 168,
    "The no-show sweep skips appointments due longer ago than this, so turning it on leaves a clinic's old agenda alone."),
  // At least 10 min: longer than a live domain.event job's whole retry schedule (8.5 min), so a job still retrying is not judged.
  outboxRedriveAfterMs: env('OUTBOX_REDRIVE_AFTER_MS', int(600_000, 604_800_000), 900_000,
    'The relay re-drives published events, and queues again notices and deliveries whose job died, once this old.'),
  controlExpiringDays: env('CONTROL_EXPIRING_DAYS', int(1, 90), 7,
    'A package is "expiring" (event control.expiring) this many days before its end.'),
  renewalLookbackDays: env('RENEWAL_LOOKBACK_DAYS', int(1, 3_650), 30,
    "Packages that ended longer ago than this many local days are stored expired, not renewed: a first run leaves a clinic's history alone."),
  webhooks: {
    allowLoopback: env('WEBHOOKS_ALLOW_LOOPBACK', bool, false,
      'Loopback receivers allowed (local development and tests only: the SSRF guard refuses them).'),
    timeoutMs: env('WEBHOOK_TIMEOUT_MS', int(100, 60_000), 10_000,
      'Bound on one delivery request.'),
    secretGraceHours: env('WEBHOOK_SECRET_GRACE_HOURS', int(0, 720), 24,
      'After a secret rotation the previous secret also signs for this long (0: not at all).'),
    disableAfterHours: env('WEBHOOK_DISABLE_AFTER_HOURS', int(1, 8_760), 120,
      'An endpoint failing continuously this long is disabled on its next failure.'),
  },
  mail: {
    smtpUrl: secret(env('SMTP_URL', url(/^smtps?$/, 'smtp:// or smtps://'), 'smtp://127.0.0.1:1025',
      'The SMTP server of notification e-mail (smtps://, or smtp:// with ?requireTLS=true).')),
    from: env('SMTP_FROM', z.string().min(3), 'Agenda <no-reply@agenda.local>',
      'Sender of notification e-mail.'),
    timeoutMs: env('SMTP_TIMEOUT_MS', int(100, 120_000), 10_000,
      'Connection and socket timeout of the SMTP transport.'),
  },
  dashboard: {
    user: env('DASHBOARD_USER', z.string().min(1).max(128), 'admin',
      'Basic-auth user of the queue dashboard (worker, /admin/queues).'),
    password: secret(env('DASHBOARD_PASSWORD', z.string().min(12).max(256), none,
      'Basic-auth password of the queue dashboard; unset, the dashboard is not mounted (never open).')),
    port: env('DASHBOARD_PORT', int(0, 65_535), 3_101,
      "Port of the queue dashboard's own server (never the health port); 0: any free port."),
    host: env('DASHBOARD_HOST', z.string().min(1).max(255), '127.0.0.1',
      'Address the dashboard listens on: loopback unless set (e.g. 0.0.0.0 behind a private load balancer).'),
    readWrite: env('DASHBOARD_READ_WRITE', bool, false,
      'Lets the dashboard change jobs (retry, promote, add, clean, obliterate); unset, it is read-only.'),
  },
};
