import { parseKmsg } from './envelope/kmsg.ts';
import { parseSyslog } from './envelope/syslog.ts';
import { isStampLedPaste } from './readers/index.ts';
import { looksCtrEvent } from './runtime/events.ts';

/** How an input frames its lines. `raw` = a daemon's own log file (logfmt, logrus TTY, klog, panics). */
export const FORMATS = ['audit', 'syslog', 'journal-json', 'journal-export', 'kmsg', 'docker-events', 'ctr-events', 'exit137', 'raw'] as const;
export type Format = (typeof FORMATS)[number];

/** Formats whose every line must parse as that format; a line that does not is bad input, not a log line. */
export const STRICT_FORMATS: ReadonlySet<Format> = new Set(['audit', 'journal-json', 'journal-export', 'docker-events', 'ctr-events', 'exit137']);

/** Guesses the framing of one line; used on an input's first line, and on a line its format rejects. */
export function sniffFormat(line: string): Format {
  if (line.startsWith('{')) {
    // exit137's own NDJSON (decode, collect): read back as is
    if (line.startsWith('{"@timestamp":') && line.includes('"exit137":{')) return 'exit137';
    if (line.includes('"__REALTIME_TIMESTAMP"') || line.includes('"__CURSOR"')) return 'journal-json';
    if (/"(Action|status)"\s*:/.test(line) && /"(Actor|id)"\s*:/.test(line)) return 'docker-events';
    return 'raw';
  }
  // a CLI's line that begins with its own time (`docker events`, a timed events row) is no envelope
  if (isStampLedPaste(line)) return 'raw';
  if (line.startsWith('__CURSOR=') || line.startsWith('__REALTIME_TIMESTAMP=')) return 'journal-export';
  if (line.startsWith('type=') || line.startsWith('node=') || line.startsWith('time->') || line === '----') return 'audit';
  if (isGlogAudit(line)) return 'audit';
  if (looksCtrEvent(line)) return 'ctr-events';
  if (parseKmsg(line).ok) return 'kmsg';
  if (parseSyslog(line).ok) return 'syslog';
  return 'raw';
}

/** osquery's glog lines that carry a netlink audit payload (`…] 1300, audit(…): …`). */
export function isGlogAudit(line: string): boolean {
  return /^[IWEF]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] \d{3,4}, audit\(/.test(line);
}
