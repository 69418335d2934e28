import type { CompiledWording, WordingMatch } from './wordings.ts';
import { COMPILED } from './wordings.ts';

/**
 * Wordings for a message a pager cut at the screen's edge (`journalctl` without `--no-pager`
 * `-l`): the message is the beginning of a known wording, cut in a literal part or in a value.
 * A match needs the wording's first literal part and at least one of its values whole: a cut
 * `Container 679813… failed to exit within 10 seconds of signal` is still a stop timeout for
 * container 679813…, with its grace period; the signal it lost is left out, not guessed.
 */
type Prefix = { wording: CompiledWording; re: RegExp; names: string[] };

let prefixes: Prefix[] | undefined;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `(?:a|ab|abc)`: any non-empty beginning of a literal part, longest first. */
function beginnings(lit: string): string {
  const alts: string[] = [];
  for (let n = lit.length; n >= 1; n--) alts.push(escape(lit.slice(0, n)));
  return `(?:${alts.join('|')})`;
}

/** For each template, one pattern per place it may be cut: in a literal after a value, or in a value. */
function build(): Prefix[] {
  const out: Prefix[] = [];
  for (const w of COMPILED) {
    for (const t of w.msg) {
      // the cut that keeps the most of the template is tried first: a value is whole when it can be
      const mine: Prefix[] = [];
      const parts = t.split(/(\{\w+\*?\})/).filter((p) => p !== '');
      const names: string[] = [];
      let re = '';
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        const ph = /^\{(\w+)\*?\}$/.exec(p);
        if (ph) {
          // cut inside this value: what is left of it is the value
          if (names.length > 0) mine.push({ wording: w, re: new RegExp(`^${re}(.+)$`, 's'), names: [...names, ph[1]!] });
          names.push(ph[1]!);
          re += '(.+?)';
        } else {
          // cut inside this literal, after at least one whole value
          if (names.length > 0) mine.push({ wording: w, re: new RegExp(`^${re}${beginnings(p)}$`, 's'), names: [...names] });
          re += escape(p);
        }
      }
      out.push(...mine.reverse());
    }
  }
  return out;
}

/** The wording a cut message begins, with the values it kept whole; undefined when none fits. */
export function matchTruncated(msg: string): WordingMatch | undefined {
  prefixes ??= build();
  for (const p of prefixes) {
    const m = p.re.exec(msg);
    if (!m) continue;
    const captures: Record<string, string> = {};
    // a value cut in the middle is no value: only the whole ones are kept
    const whole = p.re.source.endsWith('(.+)$') ? p.names.length - 1 : p.names.length;
    for (let i = 0; i < whole; i++) captures[p.names[i]!] = m[i + 1]!;
    return { wording: p.wording, captures };
  }
  return undefined;
}
