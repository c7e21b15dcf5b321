import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

/**
 * The hottest functions (self time) of the newest V8 CPU profile in `dir`, grouped
 * by package or source file: a text flame graph's bottom line, enough to see where
 * the service's time goes. Open the .cpuprofile in Chrome DevTools for the full graph.
 */
export function printProfileSummary(dir: string, prefix: string, top = 20): void {
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files.length === 0) {
    console.log(`no profile found in ${dir}`);
    return;
  }
  printProfileFileSummary(files[0], top);
}

/** Every profile in `dir`, oldest first: one per process of a cluster (primary and workers). */
export function printProfileSummaries(dir: string, top = 20): void {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  if (files.length === 0) console.log(`no profile found in ${dir}`);
  for (const file of files) printProfileFileSummary(file, top);
}

export function printProfileFileSummary(file: string, top = 20): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    if (!count) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url
      .replace(/^file:\/\//, '')
      .replace(/.*\/node_modules\//, 'node_modules/')
      .replace(/.*\/dist\//, 'dist/');
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
    byArea.set(area(url, functionName), (byArea.get(area(url, functionName)) ?? 0) + count);
  }
  const pct = (n: number) => `${((100 * n) / total).toFixed(1).padStart(5)}%`;
  console.log(`\nCPU profile ${file} (${total} samples)\nby area:`);
  for (const [name, n] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${pct(n)}  ${name}`);
  console.log('hottest functions (self time):');
  for (const [name, n] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${pct(n)}  ${name}`);
}

function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return url;
  const own = /dist\/(.*)$/.exec(url);
  return own ? own[1] : url;
}
