import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(REPO, 'test', 'fixtures');

/** The shared reference data beside the clone (`../shared`, as CI lays it out). Missing = a loud failure. */
export function sharedPath(...parts: string[]): string {
  const root = process.env.EXIT137_SHARED ?? resolve(REPO, '..', 'shared');
  const p = join(root, ...parts);
  if (!existsSync(p)) throw new Error(`shared reference data not found at ${p}: clone the project beside shared/ (or set EXIT137_SHARED)`);
  return p;
}
