import { buildLogScrubber, pathForLog } from './log-scrubber';

describe('buildLogScrubber', () => {
  const scrub = buildLogScrubber({ secrets: ['s3cret-token-value-123', undefined], pii: false });

  it('removes configured secrets, bearer tokens and token query parameters', () => {
    const line = JSON.stringify({ msg: 'GET /llm-websocket?token=s3cret-token-value-123&x=1', auth: 'Bearer abc.def' });
    const out = scrub(line);
    expect(out).not.toContain('s3cret-token-value-123');
    expect(out).not.toContain('abc.def');
    expect(out).toContain('token=[redacted]&x=1');
    expect(scrub('key is s3cret-token-value-123.')).toBe('key is [redacted].');
  });

  it('removes any query parameter named like a credential', () => {
    const out = scrub('GET /x?access_token=aaa111&client_secret=bbb222&x-api-key=ccc333&refresh_token=ddd444&page=2');
    expect(out).toBe(
      'GET /x?access_token=[redacted]&client_secret=[redacted]&x-api-key=[redacted]&refresh_token=[redacted]&page=2',
    );
  });

  it('removes phone numbers in their usual spellings, not other numbers', () => {
    const spellings = ['+15550100123', '+1 555 010 0123', '(555) 010-0123', '15550100123', '%2B15550100123'];
    spellings.push('+1.555.010.0123', '%2B1%20555%20010%200123', '%2B1+555+010+0123', '+1 (555) 010.0123');
    for (const phone of spellings) {
      expect(scrub(`call from ${phone} now`)).toBe('call from [phone] now');
    }
    const keep = [
      '{"level":30,"time":1764118800000,"pid":12345}',
      'session 3f2a1b4c-1234-4567-8901-123456789012',
      'at 2026-11-26T10:00:00.123456Z on 127.0.0.1:8080',
      'backlog 500000 rows in 2000 ms',
      'version 11.1.6 of +1.5 and 1.2.3.4',
    ];
    for (const line of keep) expect(scrub(line)).toBe(line);
  });

  it('keeps phone numbers when LOG_PII=true, never secrets', () => {
    const withPii = buildLogScrubber({ secrets: ['s3cret-token-value-123'], pii: true });
    expect(withPii('from +15550100123 with s3cret-token-value-123')).toBe('from +15550100123 with [redacted]');
  });
});

describe('pathForLog', () => {
  it('drops the query string and the fragment', () => {
    expect(pathForLog('/api/calls?phone=%2B1+555+0100&access_token=abc', false)).toBe('/api/calls');
    expect(pathForLog('/calls/abc#top', false)).toBe('/calls/abc');
    expect(pathForLog(undefined, false)).toBeUndefined();
  });

  it('masks a path segment that is a phone number however it is encoded', () => {
    const encodings = [
      '%2B15550100123',
      '+1%20555%20010%200123',
      '%2B1.555.010.0123',
      '+1-555-010-0123',
      '(555)%20010-0123',
      '%252B1%2520555%2520010%25200123',
      'tel:+15550100123',
    ];
    for (const number of encodings)
      expect(pathForLog(`/api/phone-numbers/${number}/calls`, false)).toBe('/api/phone-numbers/[phone]/calls');
  });

  it('keeps other segments, and everything but the query string with LOG_PII=true', () => {
    expect(pathForLog('/api/calls/3f2a1b4c-1234-4567-8901-123456789012/transcript', false)).toBe(
      '/api/calls/3f2a1b4c-1234-4567-8901-123456789012/transcript',
    );
    expect(pathForLog('/api/calls/call-2026/x%ZZ', false)).toBe('/api/calls/call-2026/x%ZZ');
    expect(pathForLog('/api/phone-numbers/%2B15550100123/calls?limit=5', true)).toBe(
      '/api/phone-numbers/%2B15550100123/calls',
    );
  });
});
