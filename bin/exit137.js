#!/usr/bin/env node
// The CLI runs compiled (dist/, `npm run build`, which `npm ci` runs) when that build is newer than
// every source file: tsx's loader costs most of a second at each start, more than analyze spends on
// a typical input. Otherwise it runs the TypeScript itself through tsx, so an edit is never run stale.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

function builtIsFresh() {
  let built;
  try {
    built = statSync(join(root, 'dist', 'BUILT')).mtimeMs;
  } catch {
    return false;
  }
  for (const dir of ['cli', 'ingest', 'correlate', 'sinks']) {
    for (const f of readdirSync(join(root, dir), { recursive: true })) {
      // tests are not compiled (tsconfig.build.json): editing one leaves the build as it was
      if (f.endsWith('.test.ts')) continue;
      if ((f.endsWith('.ts') || f.endsWith('.json')) && statSync(join(root, dir, f)).mtimeMs > built) return false;
    }
  }
  return true;
}

if (process.env.EXIT137_FROM_SOURCE !== '1' && builtIsFresh()) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
