import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { dashboardAssetsDir } from '../../../src/dashboard/dashboard-assets';

const ROOT = join(__dirname, '..', '..', '..');
const WEB = join(ROOT, 'web');
const STAMP = '.source-hash';

/**
 * Builds the page with Vite into the folder the service serves (web/dist), unless it was
 * already built from the same sources. The build goes to a temporary folder and is swapped
 * in, so a test run elsewhere in the checkout never sees a half-written folder.
 */
export function ensureWebBuilt(): string {
  const target = dashboardAssetsDir();
  const hash = sourceHash();
  const stamp = join(target, STAMP);
  if (existsSync(join(target, 'index.html')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash)
    return target;

  const staging = `${target}.build-${process.pid}`;
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      join(WEB, 'vite.config.mts'),
      '--outDir',
      staging,
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  writeFileSync(join(staging, STAMP), hash);
  const old = `${target}.old-${process.pid}`;
  if (existsSync(target)) renameSync(target, old);
  renameSync(staging, target);
  rmSync(old, { recursive: true, force: true });
  return target;
}

function sourceHash(): string {
  const hash = createHash('sha256');
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name === 'node_modules' || name.startsWith('dist')) continue;
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(WEB);
  for (const file of files.sort())
    hash.update(relative(WEB, file)).update('\0').update(readFileSync(file)).update('\0');
  for (const pkg of ['vite', 'uplot']) hash.update(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json')));
  return hash.digest('hex');
}
