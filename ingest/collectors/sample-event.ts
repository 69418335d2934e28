import { hostname } from 'node:os';
import { eventId } from '../source-identity.ts';
import type { NormalizedEvent } from '../event.ts';
import { ECS_VERSION } from '../event.ts';
import { formatNanos } from '../time/instant.ts';

/** A normalized event for something read from /proc or /sys rather than from a log line. */
export function sampleEvent(kind: 'task-stack' | 'memcg-sample', action: string, ns: bigint, key: string, message: string, original: string, host: string = hostname()): NormalizedEvent {
  return {
    '@timestamp': formatNanos(ns),
    ecs: { version: ECS_VERSION },
    message,
    event: { id: eventId(`${host}|${key}`), kind: 'event', category: ['host'], type: ['info'], action, module: 'exit137', dataset: 'exit137.proc', original },
    host: { name: host },
    log: {},
    tags: [],
    exit137: { kind, source: 'proc', ts_ns: ns.toString(), time: { basis: 'absolute' } },
  };
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
