import fc from 'fast-check';

/** What a paste goes through on its way into a ticket. */
export type PasteEdit = 'drop' | 'double' | 'indent' | 'dedent' | 'quote' | 'prompt' | 'cut' | 'tabs' | 'squeeze';

/**
 * Real pastes with some of their lines dropped or doubled, re-indented, quoted, behind a prompt,
 * cut short, or with their columns turned into tabs or squeezed: for fuzz tests of the readers.
 */
export function pasteMutation(pastes: string[][], edits: PasteEdit[]): fc.Arbitrary<string[]> {
  return fc.tuple(fc.constantFrom(...pastes), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...edits)), { maxLength: 6 })).map(([paste, picked]) => {
    const lines = [...paste];
    for (const [at, edit] of picked) {
      if (lines.length === 0) break;
      const i = at % lines.length;
      const l = lines[i]!;
      if (edit === 'drop') lines.splice(i, 1);
      else if (edit === 'double') lines.splice(i, 0, l);
      else if (edit === 'indent') lines[i] = `    ${l}`;
      else if (edit === 'dedent') lines[i] = l.trimStart();
      else if (edit === 'quote') lines[i] = `> ${l}`;
      else if (edit === 'prompt') lines[i] = `$ ${l}`;
      else if (edit === 'cut') lines[i] = l.slice(0, at % (l.length + 1));
      else if (edit === 'tabs') lines[i] = l.replace(/ {2,}/g, '\t');
      else lines[i] = l.replace(/\s+/g, ' ');
    }
    return lines;
  });
}
