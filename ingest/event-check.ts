import { createRequire } from 'node:module';
import type { z } from 'zod';
import type { NormalizedEvent as Event } from './event.ts';
import { check, FAILED, parse } from './event-check.generated.ts';

/**
 * NormalizedEvent checked and parsed without loading zod: by functions compiled from the schema
 * when the project is built (event-check-compile.ts, event-check-gen.ts). Loading zod and making
 * the schema was a sixth of `decode`'s start-up, paid on every run. zod is asked only about an
 * event the compiled check refuses, for its reasons, which it alone words.
 */

export { ECS_VERSION, SCHEMA_WORDS } from './event-check.generated.ts';

export type NormalizedEvent = Event;

/** Whether a value is a NormalizedEvent (zod would say the same; event-check.test.ts). */
export const isNormalizedEvent = check as (value: unknown) => boolean;

/**
 * NormalizedEvent's safeParse, as zod's: the value with its known keys copied, or zod's own issues.
 * (zod loaded then, synchronously: a schema's reasons matter where a line is refused, not its speed)
 */
export const NormalizedEvent = {
  safeParse(value: unknown): z.ZodSafeParseResult<Event> {
    const data = parse(value);
    return data !== FAILED ? { success: true, data: data as Event } : zodSchema().safeParse(value);
  },
};

function zodSchema(): typeof import('./event.ts').NormalizedEvent {
  // this module is event-check.ts under tsx and event-check.js once built: event.* is its neighbour
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return (createRequire(import.meta.url)(`./event.${ext}`) as typeof import('./event.ts')).NormalizedEvent;
}
