import { assertSafeWebhookUrl, checkAddress, guardedLookup, type Resolver } from '../../lib/domain/webhooks/ssrf';
import type { MinimalJob } from 'bullmq';
import {
  FAILURE_STREAK_GAP_MS,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  RETRY_DELAYS_MS,
  webhookBackoffStrategy,
  webhookDelay,
} from '../../lib/domain/webhooks/retry-policy';

const off = { allowLoopback: false };
const on = { allowLoopback: true };

describe('SSRF guard: addresses', () => {
  const forbidden = [
    '127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '172.31.255.254', '192.168.1.1', '169.254.169.254', '169.254.0.1',
    '0.0.0.0', '100.64.0.1', '100.127.255.254', '224.0.0.1', '255.255.255.255', '240.0.0.1',
    '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '::ffff:10.0.0.1',
    '64:ff9b::7f00:1', '64:ff9b::a9fe:a9fe', '64:ff9b:1::a00:1', '2002:7f00:1::1', '::127.0.0.1',
    // legacy IPv4 literal forms of 127.0.0.1
    '2130706433', '0177.0.0.1', '0x7f000001', '127.1', '0x7f.1',
  ];
  it.each(forbidden)('refuses %s with the allowance off', (ip) => {
    expect(checkAddress(ip, off)).not.toBeNull();
  });
  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])('allows public %s', (ip) => {
    expect(checkAddress(ip, off)).toBeNull();
  });
  // RFC 6052 section 2.2, a /48 prefix: the IPv4 address in bits 48..63 and 72..87 (bits 64..71
  // are the u-octet), the rest a suffix. 64:ff9b:1:7f00:0:100:808:808 is 127.0.0.1 that way, while
  // its last 32 bits read 8.8.8.8; 64:ff9b:1::808:808 is 8.8.8.8 only under a /96 prefix.
  it.each(['64:ff9b:1:7f00:0:100:808:808', '64:ff9b:1:a9fe:a9:fe00:808:808', '64:ff9b:1::808:808', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff'])(
    'refuses %s: the NAT64 local-use prefix, whatever layout its translator uses',
    (ip) => {
      expect(checkAddress(ip, off)).toMatch(/NAT64 local-use/);
      expect(checkAddress(ip, on)).toMatch(/NAT64 local-use/);
    },
  );
  it('the allowance admits loopback forms only', () => {
    for (const ip of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '2130706433']) expect(checkAddress(ip, on)).toBeNull();
    for (const ip of ['10.0.0.1', '169.254.169.254', '192.168.0.1', '0.0.0.0', 'fe80::1']) expect(checkAddress(ip, on)).not.toBeNull();
  });
});

describe('SSRF guard: URLs at registration', () => {
  const resolveTo = (...addresses: string[]): Resolver => async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  const urls = [
    'http://127.0.0.1/', 'http://2130706433/', 'http://0177.0.0.1/', 'http://0x7f000001/', 'http://127.1/',
    'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://[64:ff9b::a9fe:a9fe]/', 'http://169.254.169.254/latest/meta-data',
    'http://10.0.0.1/', 'http://[fe80::1]/', 'http://0.0.0.0/',
  ];
  it.each(urls)('refuses %s', async (url) => {
    await expect(assertSafeWebhookUrl(url, { ...off, resolve: resolveTo('93.184.216.34') })).rejects.toThrow(/refused/);
  });
  it('refuses schemes other than http(s) and credentials', async () => {
    await expect(assertSafeWebhookUrl('ftp://example.com/', off)).rejects.toThrow(/http/);
    await expect(assertSafeWebhookUrl('file:///etc/passwd', off)).rejects.toThrow(/http/);
    await expect(assertSafeWebhookUrl('https://u:p@example.com/', off)).rejects.toThrow(/credentials/);
  });
  it('refuses a host name when any address it resolves to is private', async () => {
    await expect(assertSafeWebhookUrl('https://hooks.example/', { ...off, resolve: resolveTo('93.184.216.34', '10.0.0.7') })).rejects.toThrow(/private/);
    await expect(assertSafeWebhookUrl('https://hooks.example/', { ...off, resolve: resolveTo('::ffff:169.254.169.254') })).rejects.toThrow(/refused/);
    await expect(assertSafeWebhookUrl('https://hooks.example/', { ...off, resolve: resolveTo('93.184.216.34') })).resolves.toBeInstanceOf(URL);
  });
  it('the lookup hook refuses at connect time and passes only checked addresses', async () => {
    const lookup = (resolve: Resolver, opts: object) =>
      new Promise<unknown>((ok, fail) => guardedLookup({ ...off, resolve })('h.example', opts as never, (err, address) => (err ? fail(err) : ok(address))));
    await expect(lookup(resolveTo('192.168.0.10'), {})).rejects.toThrow(/private/);
    await expect(lookup(resolveTo('8.8.8.8'), {})).resolves.toBe('8.8.8.8');
    await expect(lookup(resolveTo('8.8.8.8'), { all: true })).resolves.toEqual([{ address: '8.8.8.8', family: 4 }]);
  });
});

describe('retry schedule', () => {
  const ids = Array.from({ length: 200 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const withRetryAfter = (retryAfterMs: number) => Object.assign(new Error('x'), { retryAfterMs });

  it('follows 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h with jitter in [0.8, 1.2), spread across deliveries', () => {
    RETRY_DELAYS_MS.forEach((base, i) => {
      const delays = ids.map((id) => webhookDelay(i + 1, id));
      for (const d of delays) {
        expect(d).toBeGreaterThanOrEqual(base * 0.8);
        expect(d).toBeLessThan(base * 1.2);
      }
      expect(new Set(delays).size).toBeGreaterThan(150);
      expect(Math.min(...delays)).toBeLessThan(base * 0.85);
      expect(Math.max(...delays)).toBeGreaterThan(base * 1.15);
    });
  });
  it('draws the jitter from the delivery and the attempt, so the strategy and the processor agree', () => {
    const id = ids[7]!;
    const job = { id, data: { deliveryId: id } } as MinimalJob;
    for (let attempt = 1; attempt <= RETRY_DELAYS_MS.length; attempt++) {
      expect(webhookDelay(attempt, id)).toBe(webhookDelay(attempt, id));
      expect(webhookBackoffStrategy(attempt, 'webhook', new Error('503'), job)).toBe(webhookDelay(attempt, id, new Error('503')));
      expect(webhookBackoffStrategy(attempt, 'webhook', withRetryAfter(9_000), job)).toBe(webhookDelay(attempt, id, withRetryAfter(9_000)));
    }
    expect(webhookDelay(1, ids[0]!)).not.toBe(webhookDelay(1, ids[1]!));
    expect(webhookDelay(6, id) / RETRY_DELAYS_MS[5]).not.toBe(webhookDelay(7, id) / RETRY_DELAYS_MS[6]);
  });
  it('honours Retry-After when longer than the schedule, never when shorter, and caps it at 24 h', () => {
    const id = ids[3]!;
    expect(webhookDelay(1, id, withRetryAfter(42_000))).toBe(42_000);
    // Retry-After: 0 (or anything shorter) keeps the schedule: no burning every attempt in seconds.
    expect(webhookDelay(1, id, withRetryAfter(0))).toBe(webhookDelay(1, id));
    expect(webhookDelay(1, id, withRetryAfter(0))).toBeGreaterThanOrEqual(4_000);
    expect(webhookDelay(6, id, withRetryAfter(60_000))).toBe(webhookDelay(6, id));
    expect(webhookDelay(7, id, withRetryAfter(10 * 365 * 86_400_000))).toBe(MAX_RETRY_AFTER_MS);
    expect(MAX_RETRY_AFTER_MS).toBe(24 * 3_600_000);
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(55_000);
  });
  it('a failure streak survives the longest wait between two attempts of one delivery', () => {
    expect(FAILURE_STREAK_GAP_MS).toBeGreaterThan(Math.max(...RETRY_DELAYS_MS) * 1.2);
    expect(FAILURE_STREAK_GAP_MS).toBeGreaterThan(MAX_RETRY_AFTER_MS);
  });
});
