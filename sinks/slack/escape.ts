/**
 * Log text is attacker-controlled: any process can name itself `<!channel>` or
 * `<https://evil|click>`. Slack's control characters are `&`, `<` and `>`; escaping them (`&`
 * first) defuses every mention, channel ping and link, and nothing else needs escaping
 * (api.slack.com formatting#escaping). Control characters and newlines would break the layout.
 */
export const MAX_FIELD_CHARS = 300;

export function escapeSlack(text: string, max = MAX_FIELD_CHARS): string {
  // eslint-disable-next-line no-control-regex
  let s = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
  if (s.length > max) s = `${s.slice(0, max - 1)}…`;
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** As inline code: `*_~` formatting cannot apply inside, and a backtick cannot close it early. */
export function codeSlack(text: string, max = MAX_FIELD_CHARS): string {
  return `\`${escapeSlack(text.replace(/`/g, 'ˋ'), max)}\``;
}

/**
 * For plain_text fields (the header): Slack does not parse them, but a `<!channel>` shown there
 * still reads as a ping to people; angle brackets become look-alikes.
 */
export function plainSlack(text: string, max = 150): string {
  // eslint-disable-next-line no-control-regex
  let s = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/</g, '‹').replace(/>/g, '›');
  if (s.length > max) s = `${s.slice(0, max - 1)}…`;
  return s;
}
