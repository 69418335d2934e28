/**
 * What a terminal or an editor puts before a log line that is no part of it: `zgrep -n`'s
 * `file.gz:7613:`, grep's `file:` over several files, `cat -n`'s or an editor's line number. The
 * line after it is read as itself; undefined when the line has no such prefix.
 */
const PREFIX = /^(?:[\w./@-]+?(?:\.gz)?:\d+:|[\w.@-]*\/[\w./@-]+:|[\w.-]+\.log(?:\.\d+)?:|\s*\d{1,7}(?:\t| {1,2}))/;

export function afterPastePrefix(line: string): string | undefined {
  const m = PREFIX.exec(line);
  return m && m[0].length < line.length ? line.slice(m[0].length) : undefined;
}
