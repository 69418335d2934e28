/**
 * What a terminal paste wraps around a program's output, for the readers of node state (ps,
 * systemd-cgls, /proc files, counts): the quote marks of an e-mail or a markdown reply (`| `,
 * `> `), markdown emphasis around a line (`**…**`) or backticks, and the shell's prompt before a
 * command. Each reader sees the program's own text.
 */

/** `> ` (markdown), `| ` (a console quoted in a mail): one level or several. */
const QUOTE = /^(?:[>|] ?)+/;

/** A pasted line without its quoting and emphasis. */
export function bare(line: string): string {
  let t = line;
  if (t.startsWith('>') || t.startsWith('|')) t = t.replace(QUOTE, '');
  if (t.includes('`')) t = t.replace(/^\s*`+/, '').replace(/`+\s*$/, '');
  if (t.includes('**')) t = t.replace(/^(\s*)\*\*/, '$1').replace(/\*\*\s*$/, '');
  return t;
}

/** `# `, `$ `, `user@host:~$ `, `[root@host dir]# `, then `sudo`: what comes before the command typed. */
const PROMPT = /^\s*(?:\[[^\]]*\]\s*)?(?:[\w.-]+@[\w.-]+(?::[^\s$#]*)?\s*[$#]\s*|[$#%]\s*)?(?:sudo\s+(?:-\S+\s+)*)?/;

/** The command a line typed, without its prompt; the whole line when it has none. */
export function typed(line: string): string {
  const t = bare(line);
  return t.slice(PROMPT.exec(t)?.[0].length ?? 0).trim();
}
