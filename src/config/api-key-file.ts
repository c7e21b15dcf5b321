import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describeError } from '../common/describe-error';
import { ConfigValidationError } from './config-validation-error';

/** The API key kept in a file for a service started without API_KEY outside production. */
export interface StoredApiKey {
  key: string;
  file: string;
  /** True when this start made the key (first start). */
  created: boolean;
}

const MIN_LENGTH = 16;

/**
 * The key in `file`, or a new random one written there (mode 0600) when there is no file yet,
 * so a restart keeps the key the browser was signed in with. A file that exists but holds no
 * usable key is an error, never overwritten.
 */
export function readOrCreateApiKey(file: string): StoredApiKey {
  const existing = readKey(file);
  if (existing !== undefined) return { key: existing, file, created: false };

  const key = randomBytes(24).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  // Written aside, then linked into place: a second process starting at the same moment
  // either links first or reads a complete file, never a half-written one.
  const staging = join(dirname(file), `.api-key-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(staging, `${key}\n`, { mode: 0o600 });
    linkSync(staging, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readOrCreateApiKey(file);
    throw keyFileError(file, `cannot write it (${describeError(error)})`);
  } finally {
    rmSync(staging, { force: true });
  }
  return { key, file, created: true };
}

function readKey(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw keyFileError(file, `cannot read it (${describeError(error)})`);
  }
  const key = text.trim();
  if (key.length < MIN_LENGTH || /\s/.test(key)) {
    throw keyFileError(
      file,
      `it holds no key of ${MIN_LENGTH}+ characters without spaces; delete it to have a new key made, or set API_KEY`,
    );
  }
  return key;
}

/** A configuration error like the others, so start-up stops with one readable message. */
function keyFileError(file: string, problem: string): ConfigValidationError {
  return new ConfigValidationError([`API_KEY_FILE: ${file}: ${problem}.`]);
}
