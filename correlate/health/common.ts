import { createHash } from 'node:crypto';
import type { Ev } from '../context.ts';
import type { NodeFinding } from './finding.ts';

export const findingId = (...parts: string[]) => `node-${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 24)}`;

/** When a finding was seen, and whether those are real instants (a pasted stack or dmesg without a boot time has none). */
export function seen(first: Ev, last: Ev): Pick<NodeFinding, 'first_seen' | 'last_seen' | 'time_basis'> {
  return { first_seen: first['@timestamp'], last_seen: last['@timestamp'], time_basis: last.exit137.time.basis };
}
