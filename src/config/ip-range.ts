/**
 * IP addresses and CIDR ranges as numbers, and which addresses are not on the public internet.
 * Used to keep `url` backends registered over HTTP from reaching the gateway's own network
 * (server-side request forgery): loopback, private, link-local (cloud metadata) and the like.
 *
 * An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is the IPv4 address it carries, so it cannot
 * slip past a rule written for IPv4; NAT64 and 6to4 addresses are judged by the IPv4 address they
 * embed.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface IpRange {
  family: 4 | 6;
  /** The first address of the range (host bits cleared). */
  base: bigint;
  prefix: number;
}

/** Why an address is not public. */
export type AddressClass =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unspecified'
  | 'multicast'
  | 'reserved'
  | 'public';

const BITS = { 4: 32, 6: 128 } as const;

/** A literal address, IPv4 dotted quad or IPv6 (brackets and a `%zone` allowed); undefined otherwise. */
export function parseIp(text: string): IpAddress | undefined {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (isIPv4(s)) return { family: 4, value: ipv4Value(s) };
  if (isIPv6(s)) return unmap({ family: 6, value: ipv6Value(s) });
  return undefined;
}

function ipv4Value(s: string): bigint {
  return s.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** Expects text `isIPv6` accepted. */
function ipv6Value(s: string): bigint {
  let text = s;
  // A trailing dotted quad stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4Value(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest === undefined ? [] : rest ? rest.split(':') : [];
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

/** `::ffff:a.b.c.d` is IPv4 a.b.c.d. */
function unmap(address: IpAddress): IpAddress {
  if (address.family === 6 && address.value >> 32n === 0xffffn) {
    return { family: 4, value: address.value & 0xffffffffn };
  }
  return address;
}

/** `10.0.0.0/8`, `fc00::/7`, or one address (`/32`, `/128`); undefined when malformed. */
export function parseRange(text: string): IpRange | undefined {
  const slash = text.indexOf('/');
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!address) return undefined;
  const bits = BITS[address.family];
  let prefix: number = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    // `::ffff:10.0.0.0/104` was unmapped to IPv4 above; its prefix counts 96 bits fewer.
    const written = text.slice(0, slash).includes(':') ? 128 : 32;
    if (prefix > written) return undefined;
    if (written === 128 && address.family === 4) {
      if (prefix < 96) return undefined;
      prefix -= 96;
    }
  }
  return { family: address.family, base: address.value & mask(address.family, prefix), prefix };
}

function mask(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return (all >> BigInt(prefix)) ^ all;
}

export function rangeContains(range: IpRange, address: IpAddress): boolean {
  return range.family === address.family && (address.value & mask(range.family, range.prefix)) === range.base;
}

const range = (text: string): IpRange => {
  const r = parseRange(text);
  if (!r) throw new Error(`bad built-in range ${text}`);
  return r;
};

/** Every range that is not the public internet, most specific reason first. */
const SPECIAL: [IpRange, AddressClass][] = [
  [range('0.0.0.0/8'), 'unspecified'],
  [range('10.0.0.0/8'), 'private'],
  [range('100.64.0.0/10'), 'private'], // carrier-grade NAT
  [range('127.0.0.0/8'), 'loopback'],
  [range('169.254.0.0/16'), 'link-local'], // includes cloud metadata, 169.254.169.254
  [range('172.16.0.0/12'), 'private'],
  [range('192.0.0.0/24'), 'reserved'],
  [range('192.0.2.0/24'), 'reserved'],
  [range('192.168.0.0/16'), 'private'],
  [range('198.18.0.0/15'), 'reserved'],
  [range('198.51.100.0/24'), 'reserved'],
  [range('203.0.113.0/24'), 'reserved'],
  [range('224.0.0.0/4'), 'multicast'],
  [range('240.0.0.0/4'), 'reserved'], // and 255.255.255.255
  [range('::/128'), 'unspecified'],
  [range('::1/128'), 'loopback'],
  [range('::/96'), 'reserved'], // IPv4-compatible, deprecated
  [range('64:ff9b:1::/48'), 'private'], // local-use NAT64
  [range('100::/64'), 'reserved'],
  [range('2001:db8::/32'), 'reserved'],
  [range('fc00::/7'), 'private'], // unique local
  [range('fe80::/10'), 'link-local'],
  [range('fec0::/10'), 'private'], // site-local, deprecated
  [range('ff00::/8'), 'multicast'],
];

const NAT64 = range('64:ff9b::/96');
const SIX_TO_FOUR = range('2002::/16');

/** Where an address points: `public`, or why it is not. */
export function classifyAddress(address: IpAddress): AddressClass {
  // NAT64 and 6to4 reach the IPv4 address they carry.
  if (rangeContains(NAT64, address))
    return classifyAddress({ family: 4, value: address.value & 0xffffffffn });
  if (rangeContains(SIX_TO_FOUR, address)) {
    return classifyAddress({ family: 4, value: (address.value >> 80n) & 0xffffffffn });
  }
  for (const [r, cls] of SPECIAL) if (rangeContains(r, address)) return cls;
  return 'public';
}

/** The address as text: dotted quad, or IPv6 in full lowercase groups (for messages). */
export function formatIp(address: IpAddress): string {
  if (address.family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((address.value >> shift) & 0xffn)).join('.');
  }
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n)
    groups.push(((address.value >> shift) & 0xffffn).toString(16));
  return groups.join(':');
}
