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
const TOKEN_PARAM = /([?&](?:token|api_key|apikey|key)=)[^&\s"'#]+/gi;
const BEARER = /(Bearer\s+)[^\s"',]+/gi;
/**
 * A phone number as people and platforms write them: an optional +, then 7 to 15 digits
 * with optional spaces, dashes or parentheses. Digits glued to letters, dots, colons or
 * dashes (uuids, timestamps, versions, IPs, ports, JSON numbers like "time":…) are not numbers.
 */
const PHONE = /(?<![\w.:-])(?:\+|%2B)?\(?\d(?:[ ()-]{0,2}\d){6,14}(?![\w.:-])/gi;

export function buildLogScrubber(options: ScrubOptions): (line: string) => string {
  const secrets = options.secrets
    .filter((s): s is string => typeof s === 'string' && s.length >= 4)
    .flatMap((s) => [s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)])
    .filter((s, i, all) => all.indexOf(s) === i)
    .map((s) => new RegExp(escapeRegExp(s), 'g'));
  return (line) => {
    let out = line.replace(TOKEN_PARAM, `$1${REDACTED}`).replace(BEARER, `$1${REDACTED}`);
    for (const secret of secrets) out = out.replace(secret, REDACTED);
    if (!options.pii) out = out.replace(PHONE, '[phone]');
    return out;
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
