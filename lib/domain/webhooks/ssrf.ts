import dns from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * SSRF guard for webhook URLs. A receiver must be a public unicast address: loopback, private,
 * link-local (cloud metadata 169.254.169.254 included), unspecified, CGNAT, multicast, broadcast,
 * reserved and every IPv6 form that embeds such an IPv4 address (IPv4-mapped, NAT64, 6to4,
 * IPv4-compatible) are refused, and so is the NAT64 local-use prefix as a whole. Checked at
 * registration (`assertSafeWebhookUrl`) and again at send time on the address actually connected
 * to (`guardedLookup` as node:http's `lookup` option, plus `checkAddress` for literal hosts, which
 * Node connects to without a lookup).
 */

/** Resolves a host name to every address, like `dns.lookup(host, { all: true })`. Injectable for tests. */
export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export interface GuardOptions {
  /** Allows loopback (127.0.0.0/8, ::1 and their mapped forms) and nothing else: local development and tests. */
  allowLoopback: boolean;
  resolve?: Resolver;
}

/** A URL or address the guard refuses; `reason` is stable English. */
export class ForbiddenWebhookTargetError extends Error {
  constructor(readonly reason: string) {
    super(`Webhook target refused: ${reason}`);
    this.name = 'ForbiddenWebhookTargetError';
  }
}

/** The verdict on one IP address: `null` when allowed, else why not. */
export function checkAddress(address: string, { allowLoopback }: Pick<GuardOptions, 'allowLoopback'>): string | null {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''); // brackets, IPv6 zone id
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // ipaddr.parse accepts the legacy IPv4 forms too: 2130706433, 0177.0.0.1, 0x7f000001, 127.1.
    ip = ipaddr.parse(bare);
  } catch {
    return `not an IP address: ${address}`;
  }
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    if (v6.match(NAT64_LOCAL_USE)) return 'NAT64 local-use address (64:ff9b:1::/48): the IPv4 address it reaches depends on the local translator';
    const range = v6.range();
    const embedded = embeddedIPv4(v6, range);
    if (embedded) {
      const inner = checkAddress(embedded.toString(), { allowLoopback });
      return inner === null ? null : `${range} form of a refused address (${inner})`;
    }
    if (range === 'loopback') return allowLoopback ? null : 'loopback address';
    return range === 'unicast' ? null : `${range} address`;
  }
  const range = (ip as ipaddr.IPv4).range();
  if (range === 'loopback') return allowLoopback ? null : 'loopback address';
  return range === 'unicast' ? null : `${range} address`;
}

/**
 * The NAT64 local-use prefix (RFC 8215), refused whole. Where its addresses carry the IPv4 address
 * depends on the prefix length the local translator was configured with, anything from /48 to /96
 * inside it (RFC 6052 section 2.2: for /48, bits 48..63 and 72..87 around the u-octet; for /96, the
 * last 32 bits), and we cannot know which. Decoding it one way lets an address that reads as public
 * in that layout reach 127.0.0.1 or 169.254.169.254 through a translator using another, so no
 * decoding is safe. The cost: a worker on an IPv6-only network whose DNS64 synthesises local-use
 * addresses cannot reach IPv4-only receivers; such a network must translate with the well-known
 * prefix 64:ff9b::/96 (checked like any embedded IPv4 address) or give the worker IPv4.
 */
const NAT64_LOCAL_USE = ipaddr.IPv6.parseCIDR('64:ff9b:1::/48');

/**
 * The IPv4 address an IPv6 address carries (mapped, translated, NAT64, 6to4, compatible), if any.
 * ipaddr.js's `rfc6052` range also covers 64:ff9b:1::/48, refused before this is called; what is
 * left is the well-known prefix 64:ff9b::/96, always a /96: the IPv4 address is the last 32 bits.
 */
function embeddedIPv4(ip: ipaddr.IPv6, range: string): ipaddr.IPv4 | null {
  const p = ip.parts;
  const last32 = () => new ipaddr.IPv4([p[6]! >> 8, p[6]! & 0xff, p[7]! >> 8, p[7]! & 0xff]);
  switch (range) {
    case 'ipv4Mapped':
      return ip.toIPv4Address();
    case 'rfc6145':
    case 'rfc6052':
      return last32();
    case '6to4':
      return new ipaddr.IPv4([p[1]! >> 8, p[1]! & 0xff, p[2]! >> 8, p[2]! & 0xff]);
    default:
      // IPv4-compatible (::a.b.c.d, deprecated) but not :: or ::1.
      if (p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || p[7]! > 1)) return last32();
      return null;
  }
}

/** Host name of a URL without IPv6 brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '');

/** Syntax rules: http(s) only, no credentials, a host. Returns the parsed URL or why not. */
export function checkUrlSyntax(raw: string): { url: URL } | { reason: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { reason: 'not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { reason: 'only http and https are allowed' };
  if (url.username || url.password) return { reason: 'credentials in the URL are not allowed' };
  if (!url.hostname) return { reason: 'a host is required' };
  return { url };
}

/**
 * Registration check: syntax, then every address the host resolves to (or the literal itself; the
 * WHATWG parser already normalised decimal, octal, hex and short IPv4 forms). Throws
 * ForbiddenWebhookTargetError naming the first problem.
 */
export async function assertSafeWebhookUrl(raw: string, options: GuardOptions): Promise<URL> {
  const syntax = checkUrlSyntax(raw);
  if ('reason' in syntax) throw new ForbiddenWebhookTargetError(syntax.reason);
  const { url } = syntax;
  const host = hostOf(url);
  const addresses = net.isIP(host) ? [host] : await resolveAll(host, options.resolve ?? systemResolver);
  for (const address of addresses) {
    const reason = checkAddress(address, options);
    if (reason) throw new ForbiddenWebhookTargetError(`${host} resolves to a refused address (${reason})`);
  }
  return url;
}

async function resolveAll(host: string, resolve: Resolver): Promise<string[]> {
  let found: { address: string }[];
  try {
    found = await resolve(host);
  } catch (err) {
    throw new ForbiddenWebhookTargetError(`${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (found.length === 0) throw new ForbiddenWebhookTargetError(`${host} does not resolve`);
  return found.map((a) => a.address);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for node:http / node:https / net: resolves through `options.resolve`, refuses the
 * connection when any resolved address is forbidden, and hands Node only checked addresses, so
 * the socket connects to an address that passed the guard (no DNS rebinding between check and use).
 */
export function guardedLookup(options: GuardOptions) {
  const resolve = options.resolve ?? systemResolver;
  return (hostname: string, opts: LookupOneOptions | LookupAllOptions | number, callback: LookupCallback): void => {
    const wantAll = typeof opts === 'object' && opts !== null && (opts as LookupAllOptions).all === true;
    const family = typeof opts === 'number' ? opts : (opts as LookupOneOptions)?.family;
    resolveAll(hostname, resolve)
      .then((addresses) => {
        for (const address of addresses) {
          const reason = checkAddress(address, options);
          if (reason) throw new ForbiddenWebhookTargetError(`${hostname} resolves to a refused address (${reason})`);
        }
        let list = addresses.map((address) => ({ address, family: net.isIP(address) }));
        if (family === 4 || family === 6) list = list.filter((a) => a.family === family);
        if (list.length === 0) throw new ForbiddenWebhookTargetError(`${hostname} has no IPv${family} address`);
        if (wantAll) callback(null, list);
        else callback(null, list[0]!.address, list[0]!.family);
      })
      .catch((err: Error) => callback(Object.assign(err, { code: 'EWEBHOOKFORBIDDEN' }) as NodeJS.ErrnoException, ''));
  };
}

/** Send-time check of a literal IP host (Node connects to literals without calling `lookup`). */
export function checkLiteralHost(url: URL, options: GuardOptions): void {
  const host = hostOf(url);
  if (!net.isIP(host)) return;
  const reason = checkAddress(host, options);
  if (reason) throw new ForbiddenWebhookTargetError(`${host} is a refused address (${reason})`);
}
