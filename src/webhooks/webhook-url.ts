import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * The outbound rules for webhook URLs: the service must not become a way to reach what only it
 * can reach (its own loopback, the private network, cloud metadata at 169.254.169.254). Unless
 * WEBHOOK_ALLOW_PRIVATE_URLS is set, a URL must be https and its host must resolve to public
 * addresses only; the address is checked again on every attempt, when the connection is made
 * (a name that later resolves to a private address is refused then).
 */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

export const MAX_WEBHOOK_URL_LENGTH = 2048;

export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1], 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** What is wrong with `raw` as a webhook URL (a sentence for the API's 400), or undefined when it is fine. */
export async function webhookUrlProblem(raw: string, allowPrivate: boolean): Promise<string | undefined> {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) return `url must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'url must be an absolute http(s) URL, e.g. https://example.com/hooks/calls';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'url must use https (or http)';
  if (url.username || url.password) return 'url must not contain credentials (user:password@)';
  if (url.hash) return 'url must not contain a fragment (#...)';
  if (allowPrivate) return undefined;
  if (url.protocol !== 'https:') {
    return 'url must use https (http is allowed only with WEBHOOK_ALLOW_PRIVATE_URLS=true)';
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookupAll(host)).map((a) => a.address);
  } catch {
    return `url host ${host} does not resolve`;
  }
  if (addresses.some(isPrivateAddress)) {
    return `url host ${host} is a loopback, private or reserved address (allowed only with WEBHOOK_ALLOW_PRIVATE_URLS=true)`;
  }
  return undefined;
}

function lookupAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );
}

/**
 * A `lookup` for http.request that refuses private addresses at connect time: the name is
 * resolved once and the connection goes to the address that was checked.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((a) => isPrivateAddress(a.address));
    if (refused) {
      const problem: NodeJS.ErrnoException = new Error(
        `${hostname} resolves to ${refused.address}, a loopback, private or reserved address`,
      );
      problem.code = 'EPRIVATEADDRESS';
      return callback(problem, []);
    }
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
};
