import escapeHtml from 'escape-html';

/**
 * Markup that is already safe. Only `html` and `raw` make one, so a string from a log can reach the
 * page only through the escaper: a container named `<script>` stays text.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type Part = Html | string | number | bigint | boolean | null | undefined | readonly Part[];

/** A template whose interpolations are escaped unless they are Html themselves. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Our own markup or code, never anything read from the input. */
export function raw(markup: string): Html {
  return new Html(markup);
}

function render(v: Part): string {
  if (v === null || v === undefined || v === false || v === true) return '';
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(displayText(String(v)));
}

/**
 * What a browser will show of a log's text. A terminal paste can carry ESC sequences and other C0
 * controls; HTML would drop or mangle them silently, so each is shown as its Unicode control
 * picture (ESC as ␛), which keeps the line honest. CRLF is a line end.
 */
export function displayText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\r\n/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => (c === '\u007f' ? '\u2421' : String.fromCharCode(0x2400 + c.charCodeAt(0))));
}
