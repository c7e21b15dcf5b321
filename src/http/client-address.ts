import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** What `clientAddress` reads of a request. */
export type AddressedRequest = Pick<IncomingMessage, 'headers'> & {
  socket: Pick<IncomingMessage['socket'], 'remoteAddress'>;
};

/**
 * The address a connection comes from. Behind a trusted proxy (TRUSTED_PROXY=true) it is
 * the last entry of X-Forwarded-For, the one our proxy appended; earlier entries are
 * whatever the client claimed and are never believed. Without it the header is ignored.
 */
export function clientAddress(req: AddressedRequest, trustedProxy: boolean): string | undefined {
  if (trustedProxy) {
    const header = req.headers['x-forwarded-for'];
    const value = Array.isArray(header) ? header.join(',') : header;
    const last = value
      ?.split(',')
      .map((part) => part.trim())
      .filter(Boolean)
      .pop();
    if (last) return normalizeAddress(last);
  }
  const remote = req.socket.remoteAddress;
  return remote ? normalizeAddress(remote) : undefined;
}

/** `::ffff:10.0.0.1` (IPv4 on a dual-stack socket) is 10.0.0.1. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

/** WS_ALLOWED_IPS: addresses and CIDRs, IPv4 and IPv6. */
export class AddressAllowList {
  private readonly list = new BlockList();

  constructor(readonly entries: string[]) {
    for (const entry of entries) {
      const [address, prefix] = entry.split('/');
      const family = isIP(address);
      if (family === 0) throw new Error(`WS_ALLOWED_IPS: "${entry}" is not an IP address or CIDR`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, Number(prefix), type);
    }
  }

  get enabled(): boolean {
    return this.entries.length > 0;
  }

  allows(address: string | undefined): boolean {
    if (!this.enabled) return true;
    if (!address) return false;
    const family = isIP(address);
    if (family === 0) return false;
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}
