/**
 * Last line of defence for log output: whatever a message or a serialized request
 * contains, configured secrets and bearer/query tokens never reach the log, and nor do
 * phone numbers unless LOG_PII=true. Applied to each finished line.
 */
export interface ScrubOptions {
  secrets: Array<string | undefined>;
  pii: boolean;
}

const REDACTED = '[redacted]';
/** Any query parameter named like a credential: token, access_token, api_key, x-api-key, client_secret, password... */
const TOKEN_PARAM = /([?&;][\w.-]*?(?:token|key|secret|password|signature)=)[^&\s"'#]+/gi;
const BEARER = /(Bearer\s+)[^\s"',]+/gi;
/**
 * A phone number as people and platforms write them: an optional +, then 7 to 15 digits
 * with optional spaces, dashes or parentheses. Digits glued to letters, dots, colons or
 * dashes (uuids, timestamps, versions, IPs, ports, JSON numbers like "time":…) are not numbers.
 */
const PHONE = /(?<![\w.:-])(?:\+|%2B)?\(?\d(?:[ ()-]{0,2}\d){6,14}(?![\w.:-])/gi;
/** With a leading + (or %2B), dots and encoded spaces separate groups too: +1.555.0100, %2B1%20555%200100, +1+555+0100. */
const PLUS_PHONE = /(?<![\w.:-])(?:\+|%2B)\(?\d(?:(?:[ .()+-]|%20|%2E){0,2}\d){6,14}(?![\w:-]|\.\d)/gi;
/** A path segment that is nothing but a phone number once decoded: digits and the usual separators. */
const PHONE_SEGMENT = /^(?:tel:)?[\s+()./-]*(?:\d[\s+()./-]*){7,15}$/i;

export function buildLogScrubber(options: ScrubOptions): (line: string) => string {
  const secrets = options.secrets
    .filter((s): s is string => typeof s === 'string' && s.length >= 4)
    .flatMap((s) => [s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)])
    .filter((s, i, all) => all.indexOf(s) === i)
    .map((s) => new RegExp(escapeRegExp(s), 'g'));
  return (line) => {
    let out = line.replace(TOKEN_PARAM, `$1${REDACTED}`).replace(BEARER, `$1${REDACTED}`);
    for (const secret of secrets) out = out.replace(secret, REDACTED);
    if (!options.pii) out = out.replace(PLUS_PHONE, '[phone]').replace(PHONE, '[phone]');
    return out;
  };
}

/**
 * A request URL as the request log shows it: the path without its query string, and each
 * segment that is a phone number, however it was encoded, as [phone] (unless LOG_PII=true).
 */
export function pathForLog(url: string | undefined, pii: boolean): string | undefined {
  if (url === undefined) return undefined;
  const path = url.split(/[?#]/, 1)[0];
  if (pii) return path;
  return path
    .split('/')
    .map((segment) => (PHONE_SEGMENT.test(fullyDecoded(segment)) ? '[phone]' : segment))
    .join('/');
}

/** Decoded until it stops changing (a number encoded twice is still a number). */
function fullyDecoded(segment: string): string {
  let text = segment;
  for (let i = 0; i < 3; i++) {
    let next: string;
    try {
      next = decodeURIComponent(text);
    } catch {
      return text;
    }
    if (next === text) return text;
    text = next;
  }
  return text;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
