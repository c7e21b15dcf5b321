import { isPrivateAddress, webhookUrlProblem } from './webhook-url';
import { signatureOf, webhookHeaders } from './webhook-wire';

describe('webhook URL rules', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.8',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.1.1.1',
  ])('treats %s as private', (address) => expect(isPrivateAddress(address)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('treats %s as public', (address) =>
    expect(isPrivateAddress(address)).toBe(false),
  );

  it('allows https to a public address, and refuses the rest with a reason', async () => {
    expect(await webhookUrlProblem('https://93.184.216.34/hooks', false)).toBeUndefined();
    expect(await webhookUrlProblem('http://93.184.216.34/hooks', false)).toContain('must use https');
    expect(await webhookUrlProblem('https://[fd00::1]/hooks', false)).toContain('loopback, private or reserved');
    expect(await webhookUrlProblem('https://93.184.216.34/hooks#x', false)).toContain('fragment');
    expect(await webhookUrlProblem(`https://93.184.216.34/${'a'.repeat(2100)}`, false)).toContain('at most 2048');
  });

  it('allows http and private addresses with WEBHOOK_ALLOW_PRIVATE_URLS, but still only http(s)', async () => {
    expect(await webhookUrlProblem('http://127.0.0.1:8080/hooks', true)).toBeUndefined();
    expect(await webhookUrlProblem('file:///etc/passwd', true)).toContain('must use https (or http)');
  });
});

describe('webhook signature', () => {
  it('is the HMAC-SHA256 of "<timestamp>.<body>" in hex, one per secret during a rotation', () => {
    // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
    const expected = 'v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789';
    expect(signatureOf('whsec_test', 1_700_000_000, '{"a":1}')).toBe(expected);
    const headers = webhookHeaders('evt-1', '{"a":1}', ['whsec_test', 'whsec_old'], new Date(1_700_000_000_400));
    expect(headers['Webhook-Id']).toBe('evt-1');
    expect(headers['Webhook-Timestamp']).toBe('1700000000');
    expect(headers['Webhook-Signature'].split(' ')).toEqual([
      expected,
      signatureOf('whsec_old', 1_700_000_000, '{"a":1}'),
    ]);
  });
});
