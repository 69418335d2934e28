import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { savedObjects, toNdjson } from './objects.ts';

/** Writes the saved objects file that ships (tests check it matches objects.ts). */
writeFileSync(join(import.meta.dirname, 'exit137-saved-objects.ndjson'), toNdjson(savedObjects()));
