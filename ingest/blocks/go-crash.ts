import type { GoCrash, GoFrame } from '../event.ts';
import type { BlockKind } from './block.ts';
import type { Draft } from '../readers/draft.ts';

// `[signal SIGSEGV: …` opens a dump whose `panic:` line a paste or a log excerpt cut away
const START = /^(panic: |fatal error: |(SIG[A-Z]+|signal \d+): [a-z]|unexpected fault address |\[signal SIG[A-Z]+: )/;
const GOROUTINE = /^goroutine (\d+)(?: gp=\S+ m=\S+(?: mp=\S+)?)? \[([^\]]+)\]:$/;
const FILE_LINE = /^\s*(\S.*\.(?:go|s)):(\d+)(?: \+0x[0-9a-f]+)?(?: fp=\S+ sp=\S+ pc=\S+)?$/;
const FRAME = /^(\S.*)\((?:[^()]*|\.\.\.)\)(?: fp=\S+ sp=\S+ pc=\S+)?$/;
const CONTINUATION = [
  /^\[signal /,
  /^\s*\[recovered\]/,
  /^\t?panic: /,
  /^PC=0x[0-9a-f]+ m=\d+/,
  /^created by /,
  /^\.\.\.additional frames elided\.\.\.$/,
  /^goroutine running on other thread; stack unavailable$/,
  /^(r[a-z0-9]{1,3}|eflags|cs|fs|gs|pc|sp|lr|fault|trap|err|oldmask|addr|ctr|link|xer|ccr)\s+0x[0-9a-f]+$/,
  /^exit status \d+$/,
  /^\s*$/,
  /^\[(?:\d+ )?(?:minutes|locked to thread)\]$/,
  /^goroutine \d+ \[/,
];

type State = { frames: number };

/** Go panics and fatal-signal dumps (`panic:`, `fatal error:`, `SIGSEGV: segmentation violation`). */
export const goCrash: BlockKind<GoCrash, State> = {
  name: 'go-crash',
  starts: (t) => START.test(t),
  init: () => ({ frames: 0 }),
  accepts(t, s) {
    if (GOROUTINE.test(t) || FILE_LINE.test(t)) return 'yes';
    if (FRAME.test(t) && !/^time=|^level=|^[A-Z]{4}\[/.test(t)) {
      s.frames++;
      return 'yes';
    }
    if (CONTINUATION.some((re) => re.test(t))) return 'yes';
    return 'no';
  },
  finish(lines, complete) {
    const first = lines[0] ?? '';
    const crash: GoCrash = {
      headline: first,
      kind: first.startsWith('panic:') ? 'panic' : first.startsWith('fatal error:') ? 'fatal-error' : 'fatal-signal',
      frames: [],
      goroutines: 0,
      complete,
    };
    const sigHead = /^(SIG[A-Z]+): /.exec(first);
    if (sigHead) crash.signal = sigHead[1]!;
    let gIndex = -1;
    let topGoroutine = -1;
    for (let i = 1; i < lines.length; i++) {
      const t = lines[i]!;
      const sig = /^\[signal (SIG[A-Z]+|0x[0-9a-f]+)(?:: ([^\]]*?))?(?: code=.*)?\]$/.exec(t);
      if (sig) {
        crash.signal = sig[1]!;
        crash.signal_detail = t.slice(1, -1);
        continue;
      }
      const g = GOROUTINE.exec(t);
      if (g) {
        crash.goroutines++;
        gIndex++;
        if (gIndex === 0) crash.goroutine = { id: Number(g[1]), state: g[2]! };
        continue;
      }
      const f = FRAME.exec(t);
      if (f && !FILE_LINE.test(t) && !t.startsWith('created by ')) {
        const frame: GoFrame = { func: f[1]! };
        const next = lines[i + 1] ? FILE_LINE.exec(lines[i + 1]!) : null;
        if (next) {
          frame.file = next[1]!;
          frame.line = Number(next[2]);
          i++;
        }
        if (gIndex <= 0) crash.frames.push(frame);
        // The program's own frame, not the runtime's: in the first goroutine that has one.
        if (!crash.top_frame && !isRuntimeFrame(frame.func) && (topGoroutine < 0 || topGoroutine === gIndex)) {
          crash.top_frame = frame;
          topGoroutine = gIndex;
        }
      }
    }
    return crash;
  },
  drafts(crash, complete): Draft[] {
    const at = crash.top_frame ? ` at ${crash.top_frame.func}${crash.top_frame.file ? ` (${crash.top_frame.file}:${crash.top_frame.line})` : ''}` : '';
    return [{ kind: 'go-crash', action: 'go-crash', type: 'end', crash, message: `${crash.headline}${at}`, tags: complete ? [] : ['incomplete'] }];
  },
};

/** Frames of Go's standard library (no dot in the first path element), except the program's `main`. */
export function isRuntimeFrame(func: string): boolean {
  const firstSegment = func.split('/')[0]!;
  if (firstSegment.includes('.') && func.includes('/')) return false;
  const pkg = func.split('.')[0]!;
  return pkg !== 'main';
}

/** `(*execProcess).pidv` from `github.com/…/proc.(*execProcess).pidv`: the short name people search for. */
export function shortFrameName(func: string): string {
  const slash = func.lastIndexOf('/');
  const tail = func.slice(slash + 1);
  const dot = tail.indexOf('.');
  return dot >= 0 ? tail.slice(dot + 1) : tail;
}
