import { AddressAllowList, AddressedRequest, clientAddress } from './client-address';

function request(remoteAddress: string, forwardedFor?: string): AddressedRequest {
  return {
    socket: { remoteAddress },
    headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
  };
}

describe('clientAddress', () => {
  it('ignores X-Forwarded-For unless the proxy is trusted', () => {
    expect(clientAddress(request('::ffff:10.1.2.3', '203.0.113.9'), false)).toBe('10.1.2.3');
  });

  it('behind a trusted proxy, believes only the entry the proxy appended', () => {
    expect(clientAddress(request('10.0.0.1', '198.51.100.7, 203.0.113.9'), true)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.1'), true)).toBe('10.0.0.1');
  });
});

describe('AddressAllowList', () => {
  const list = new AddressAllowList(['10.0.0.0/8', '203.0.113.9', '2001:db8::/32']);

  it('matches addresses and CIDRs of both families', () => {
    expect(list.allows('10.200.3.4')).toBe(true);
    expect(list.allows('203.0.113.9')).toBe(true);
    expect(list.allows('203.0.113.10')).toBe(false);
    expect(list.allows('2001:db8::1')).toBe(true);
    expect(list.allows('2001:db9::1')).toBe(false);
    expect(list.allows(undefined)).toBe(false);
  });

  it('allows everyone when empty', () => {
    expect(new AddressAllowList([]).allows('192.0.2.1')).toBe(true);
  });

  it('refuses an entry that is not an address', () => {
    expect(() => new AddressAllowList(['example.com'])).toThrow('WS_ALLOWED_IPS');
  });
});
