import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The built page (`npm run build:web` writes web/dist). Found from the package root, so the
 * same code works from src/ (ts-node, tests) and from dist/src/ (production).
 */
export function dashboardAssetsDir(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return join(from, 'web', 'dist');
    dir = parent;
  }
  return join(dir, 'web', 'dist');
}

/** Paths the page must never answer with index.html. */
export const NOT_DASHBOARD_PATHS = ['/api/{*rest}', '/api', '/health/{*rest}', '/health', '/metrics', '/llm-websocket'];

/** Routes of the page itself (client-side routing); anything else not found stays a 404. */
export const DASHBOARD_ROUTES = /^\/(calls(\/[^/]+)?|live|overview)?\/?$/;
