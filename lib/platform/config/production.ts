import ipaddr from 'ipaddr.js';
import type { Config } from './schema';
import { TABLE } from './table';

/**
 * One thing a production deployment must not run with, read from the parsed config; it returns an
 * issue per offending variable, named, saying why (never the value of a secret). Small and
 * separate, so a setting added later (Redis Cluster nodes) adds one rule.
 */
export type ProductionRule = (config: Config) => string[];

/** Stages that run on a laptop or in tests, where the development defaults are the point. */
const DEVELOPMENT_STAGES = ['dev', 'test'];
export const isDevelopmentStage = (stage: string) => DEVELOPMENT_STAGES.includes(stage);

/** The host of a URL when it is this machine (localhost, 127/8, ::1, mapped or unspecified). */
export function localHost(url: string): string | undefined {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return host;
  if (!ipaddr.isValid(host)) return undefined;
  const range = ipaddr.process(host).range();
  return range === 'loopback' || range === 'unspecified' ? host : undefined;
}

const onThisMachine = (name: string, url: string, what: string) => {
  const host = localHost(url);
  return host ? [`${name}: points at ${host}, this machine: production needs ${what}`] : [];
};

const { db, redis, mail, webhooks, dashboard, rateLimit, adminSecret, aws, crypto } = TABLE;

function postgres(name: string, url: string): string[] {
  const sslmode = new URL(url).searchParams.get('sslmode');
  const tls =
    sslmode === 'verify-full'
      ? []
      : [
          `${name}: ${sslmode ? `sslmode=${sslmode}` : 'no sslmode'} does not verify the server: production needs sslmode=verify-full ` +
            '(RDS needs sslmode=verify-full plus its CA: NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem on Lambda, or sslrootcert=<RDS CA bundle>)',
        ];
  return [...onThisMachine(name, url, 'the database server'), ...tls];
}

function redisLink(name: string, url: string): string[] {
  return [
    ...onThisMachine(name, url, 'the real Redis server'),
    ...(url.startsWith('redis:') ? [`${name}: redis:// sends commands and the password in clear: use rediss:// (TLS)`] : []),
  ];
}

function smtp(url: string): string[] {
  const { protocol, searchParams } = new URL(url);
  const issues = onThisMachine(mail.smtpUrl.name, url, 'a real mail server, not the development sink');
  if (protocol === 'smtp:' && searchParams.get('requireTLS') !== 'true') {
    issues.push(`${mail.smtpUrl.name}: smtp:// without requireTLS=true may send mail and the SMTP password in clear: use smtps:// or smtp://...?requireTLS=true`);
  }
  if (searchParams.get('tls.rejectUnauthorized') === 'false') {
    issues.push(`${mail.smtpUrl.name}: tls.rejectUnauthorized=false accepts any certificate: remove it`);
  }
  return issues;
}

/** Local emulators (serverless-offline, a stand-in for the secret stores) answer only on a laptop. */
function endpoint(name: string, url: string | undefined, secrets = false): string[] {
  if (!url) return [];
  const local = onThisMachine(name, url, "AWS's own endpoint: unset it");
  const clear = secrets && new URL(url).protocol !== 'https:' ? [`${name}: secrets would travel over plain HTTP: use https://`] : [];
  return [...local, ...clear];
}

/** Development defaults and switches that are unsafe in production (docs/CONFIGURATION.md, "Production"). */
export const PRODUCTION_RULES: readonly ProductionRule[] = [
  (c) => postgres(db.url.name, c.db.url),
  // Unset, it is DATABASE_URL, already judged.
  (c) => (c.db.sessionUrl === c.db.url ? [] : postgres(db.sessionUrl.name, c.db.sessionUrl)),
  // The cluster's nodes replace REDIS_URL, which is then not judged.
  (c) => {
    const [name, urls] = c.redis.clusterNodes ? [redis.clusterNodes.name, c.redis.clusterNodes] : [redis.url.name, [c.redis.url]];
    return [...new Set(urls.flatMap((url) => redisLink(name, url)))];
  },
  (c) => smtp(c.mail.smtpUrl),
  (c) =>
    /@[^>]*\.local>?\s*$/i.test(c.mail.from)
      ? [`${mail.from.name}: the development sender (a .local address), which receiving servers refuse: set the product's real sender`]
      : [],
  (c) => (c.webhooks.allowLoopback ? [`${webhooks.allowLoopback.name}: true lets webhook deliveries reach this machine past the SSRF guard (development and tests only)`] : []),
  (c) => (c.rateLimit.points === 0 ? [`${rateLimit.points.name}: 0 turns the per-key rate limit off`] : []),
  (c) =>
    c.dashboard.password !== undefined && c.dashboard.user === 'admin'
      ? [`${dashboard.user.name}: the default "admin" is the first name anyone tries on the queue dashboard: set another`]
      : [],
  (c) => (c.adminSecret !== undefined && c.adminSecret.length < 32 ? [`${adminSecret.name}: shorter than 32 characters (e.g. openssl rand -hex 32)`] : []),
  (c) => [
    ...endpoint(aws.lambdaEndpoint.name, c.aws.lambdaEndpoint),
    ...endpoint(aws.websocketEndpoint.name, c.aws.websocketEndpoint),
    ...endpoint(aws.ssmEndpoint.name, c.aws.ssmEndpoint, true),
    ...endpoint(aws.secretsManagerEndpoint.name, c.aws.secretsManagerEndpoint, true),
  ],
  // The local key sits beside the data it protects; KMS keeps the wrapping key out of the deployment.
  (c) => [
    ...(c.crypto.kmsKeyId ? [] : [`${crypto.kmsKeyId.name}: unset: production wraps data keys with AWS KMS (${crypto.dataKeyEncryptionKey.name} is for development and tests only)`]),
    ...endpoint(crypto.kmsEndpoint.name, c.crypto.kmsEndpoint, true),
  ],
];
