import { buildLogScrubber } from './log-scrubber';

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

  it('removes phone numbers in their usual spellings, not other numbers', () => {
    for (const phone of ['+15550100123', '+1 555 010 0123', '(555) 010-0123', '15550100123', '%2B15550100123']) {
      expect(scrub(`call from ${phone} now`)).toBe('call from [phone] now');
    }
    const keep = [
      '{"level":30,"time":1764118800000,"pid":12345}',
      'session 3f2a1b4c-1234-4567-8901-123456789012',
      'at 2026-11-26T10:00:00.123456Z on 127.0.0.1:8080',
      'backlog 500000 rows in 2000 ms',
    ];
    for (const line of keep) expect(scrub(line)).toBe(line);
  });

  it('keeps phone numbers when LOG_PII=true, never secrets', () => {
    const withPii = buildLogScrubber({ secrets: ['s3cret-token-value-123'], pii: true });
    expect(withPii('from +15550100123 with s3cret-token-value-123')).toBe('from +15550100123 with [redacted]');
  });
});
