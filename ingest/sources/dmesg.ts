import type { Resumable } from './commands.ts';

/**
 * The kernel's ring buffer followed (`dmesg --follow`), resumable without a cursor: a line's
 * token is its stamp (seconds since boot) and its rank among lines of the same stamp. At the first
 * start only new messages are read (`--follow-new`); after a restart the buffer is read again
 * from its start and the lines up to the saved token are skipped. Each start is an input of its
 * own, since line numbers start over.
 */
export function resumableDmesg(): Resumable {
  let last = '';
  let rank = 0;
  let starts = 0;
  return {
    of: (line) => {
      const m = /^\[\s*(\d+\.\d+)\]/.exec(line);
      if (!m) return undefined;
      if (m[1] === last) rank++;
      else {
        last = m[1]!;
        rank = 1;
      }
      return `${last}#${rank}`;
    },
    from: (token) => {
      last = '';
      rank = 0;
      return { id: `dmesg#${starts++}`, format: 'kmsg', argv: ['dmesg', token === undefined ? '--follow-new' : '--follow'] };
    },
    isAfter: (token, saved) => {
      const [a, ra] = split(token);
      const [b, rb] = split(saved);
      return a > b || (a === b && ra > rb);
    },
  };
}

function split(token: string): [bigint, number] {
  const [stamp = '0.0', rank = '0'] = token.split('#');
  const [s = '0', f = ''] = stamp.split('.');
  return [BigInt(s) * 1_000_000_000n + BigInt(f.padEnd(9, '0').slice(0, 9)), Number(rank)];
}
