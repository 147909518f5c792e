import { assertSafeWebhookUrl, checkAddress, guardedLookup, type Resolver } from '../../lib/webhooks/ssrf';
import { parseRetryAfter, webhookDelay, RETRY_DELAYS_MS } from '../../lib/webhooks/deliver';

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
  it('follows 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h with ±20 % jitter', () => {
    RETRY_DELAYS_MS.forEach((base, i) => {
      expect(webhookDelay(i + 1, undefined, () => 0)).toBe(base * 0.8);
      expect(webhookDelay(i + 1, undefined, () => 1)).toBe(base * 1.2);
    });
  });
  it('honours Retry-After', () => {
    expect(webhookDelay(1, Object.assign(new Error('x'), { retryAfterMs: 42_000 }))).toBe(42_000);
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(55_000);
  });
});
