import type { z } from 'zod';

/**
 * A zod schema compiled to the source of two functions: `check(v)`, whether a value fits, and
 * `parse(v)`, the value as zod's parse returns it (known keys copied, in the schema's order;
 * unknown ones dropped), or FAILED. Written into ingest/event-check.generated.ts when the project is
 * built (ingest/event-check-gen.ts), so that `decode` never loads zod (a sixth of its start-up)
 * while the schema stays the single source: a change to event.ts changes the generated file, its
 * test fails until it is generated again, and a kind of schema the compiler does not know fails
 * the generation, never as a check that lets things through.
 *
 * Why compiled at all: `decode` validates every event by default, and zod's generic safeParse (a
 * result, a context, a copy of every object it checks) cost more than decoding the event did.
 * Only the answer is fast: on false the caller asks zod why and reports that (event-check.ts).
 * (Writing the JSON in the same walk was tried: building the string in JavaScript cost twice
 * V8's JSON.stringify, which the event still goes through.)
 */

/** A schema node as zod 4 describes itself (`schema._zod.def`): only what the compiler reads. */
type Def = {
  type: string;
  shape?: Record<string, Schema>;
  innerType?: Schema;
  element?: Schema;
  keyType?: Schema;
  valueType?: Schema;
  entries?: Record<string, string | number>;
  values?: unknown[];
  checks?: { _zod: { def: { check: string; format?: string; pattern?: RegExp } } }[];
};
type Schema = { _zod: { def: Def } };

/**
 * The compiled source, JavaScript: declarations of the constants the functions use, the two
 * functions (`check`, `parse`), and every string of the schema's closed vocabularies.
 */
export type CompiledSource = { consts: string; check: string; parse: string; words: string[] };

/** What the compiled functions rely on, defined once before them. */
export const RUNTIME = `const FAILED = Symbol('failed');

/** Whether nothing inside \`o\` can change: it and every object and array in it are frozen, and none has a getter. */
function deepFrozen(o) {
  if (!Object.isFrozen(o)) return false;
  for (const d of Object.values(Object.getOwnPropertyDescriptors(o))) {
    if (!('value' in d)) return false;
    if (typeof d.value === 'object' && d.value !== null && !deepFrozen(d.value)) return false;
  }
  return true;
}`;

export function compileSource(schema: z.ZodType): CompiledSource {
  const consts: string[] = [];
  const words = new Set<string>();
  let vars = 0;
  const constant = (code: string) => {
    consts.push(`const k${consts.length} = ${code};`);
    return `k${consts.length - 1}`;
  };
  const fresh = () => `v${vars++}`;

  /** A regex as a literal that makes the same regex. */
  const regex = (r: RegExp, where: string) => {
    // a global or sticky regex keeps state from one test() to the next
    if (r.global || r.sticky) throw new Error(`${where}: stateful regex`);
    const literal = `/${r.source}/${r.flags}`;
    // (eval of the literal, to be sure the source text says what the regex is)
    if (String(new Function(`return ${literal}`)()) !== String(r)) throw new Error(`${where}: regex ${String(r)} cannot be written as a literal`);
    return literal;
  };

  /** Statements that return false (check) or FAILED (parse) when `v` does not fit `node`; with `out`, they set it to the parsed value. */
  function gen(node: Schema, v: string, where: string, out: string | undefined): string {
    const fail = out === undefined ? 'return false;' : 'return FAILED;';
    const d = node._zod.def;
    const same = out === undefined ? '' : `${out} = ${v};`;
    switch (d.type) {
      case 'string': {
        let code = `if (typeof ${v} !== 'string') ${fail}`;
        for (const c of d.checks ?? []) {
          const cd = c._zod.def;
          if (cd.check !== 'string_format' || cd.format !== 'regex' || !cd.pattern) throw new Error(`${where}: string check ${cd.check}/${cd.format ?? ''} is not compiled`);
          code += `if (!${constant(regex(cd.pattern, where))}.test(${v})) ${fail}`;
        }
        return code + same;
      }
      case 'number': {
        let int = false;
        for (const c of d.checks ?? []) {
          const cd = c._zod.def;
          if (cd.check === 'number_format' && cd.format === 'safeint') int = true;
          else throw new Error(`${where}: number check ${cd.check}/${cd.format ?? ''} is not compiled`);
        }
        // zod's number refuses NaN and the infinities
        return `if (typeof ${v} !== 'number' || !${int ? 'Number.isSafeInteger' : 'Number.isFinite'}(${v})) ${fail}${same}`;
      }
      case 'boolean':
        return `if (typeof ${v} !== 'boolean') ${fail}${same}`;
      case 'enum':
      case 'literal': {
        const allowed = d.type === 'enum' ? Object.values(d.entries!) : d.values!;
        for (const a of allowed) {
          if (typeof a !== 'string' && typeof a !== 'number' && typeof a !== 'boolean') throw new Error(`${where}: ${d.type} of ${typeof a} is not compiled`);
          if (typeof a === 'string') words.add(a);
        }
        return `if (!${constant(`new Set(${JSON.stringify(allowed)})`)}.has(${v})) ${fail}${same}`;
      }
      case 'array': {
        const i = fresh();
        const x = fresh();
        if (out === undefined) return `if (!Array.isArray(${v})) ${fail} for (let ${i} = 0; ${i} < ${v}.length; ${i}++) { const ${x} = ${v}[${i}]; ${gen(d.element!, x, `${where}[]`, undefined)} }`;
        const a = fresh();
        const xo = fresh();
        return `if (!Array.isArray(${v})) ${fail} const ${a} = []; for (let ${i} = 0; ${i} < ${v}.length; ${i}++) { const ${x} = ${v}[${i}]; let ${xo}; ${gen(d.element!, x, `${where}[]`, xo)} ${a}.push(${xo}); } ${out} = ${a};`;
      }
      case 'record': {
        const kd = d.keyType!._zod.def;
        if (kd.type !== 'string' || kd.checks?.length) throw new Error(`${where}: record keys other than plain strings are not compiled`);
        const i = fresh();
        const x = fresh();
        const isObject = `if (typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v})) ${fail}`;
        if (out === undefined) {
          const vals = fresh();
          // an object's own keys are strings (JSON leaves symbols out): only the values need a look
          return `${isObject} ${once(v, `const ${vals} = Object.values(${v}); for (let ${i} = 0; ${i} < ${vals}.length; ${i}++) { const ${x} = ${vals}[${i}]; ${gen(d.valueType!, x, `${where}{}`, undefined)} }`)}`;
        }
        const keys = fresh();
        const r = fresh();
        const xo = fresh();
        // zod's record copies each own key but __proto__ (which would set the copy's prototype), without a look at its value
        return `${isObject} const ${keys} = Object.keys(${v}); const ${r} = {}; for (let ${i} = 0; ${i} < ${keys}.length; ${i}++) { if (${keys}[${i}] === '__proto__') continue; const ${x} = ${v}[${keys}[${i}]]; let ${xo}; ${gen(d.valueType!, x, `${where}{}`, xo)} ${r}[${keys}[${i}]] = ${xo}; } ${out} = ${r};`;
      }
      case 'object': {
        const o = out === undefined ? undefined : fresh();
        let code = o === undefined ? '' : `const ${o} = {};`;
        for (const [k, sub] of Object.entries(d.shape!)) {
          if (k === '__proto__') throw new Error(`${where}: a key __proto__ is not compiled`);
          const x = fresh();
          const optional = sub._zod.def.type === 'optional';
          const inner = optional ? sub._zod.def.innerType! : sub;
          if (inner._zod.def.type === 'optional') throw new Error(`${where}.${k}: optional of optional`);
          const key = JSON.stringify(k);
          const xo = o === undefined ? undefined : fresh();
          const decl = xo === undefined ? '' : `let ${xo};`;
          const set = xo === undefined ? '' : `${o}[${key}] = ${xo};`;
          // an optional key may be absent or undefined; a required one may not (zod says the same).
          // zod's copy keeps an optional key the value has (in) whose value is undefined
          const absent = o === undefined ? '' : ` else if (${key} in ${v}) ${o}[${key}] = undefined;`;
          code += `const ${x} = ${v}[${key}]; ${optional ? `if (${x} !== undefined) { ${decl} ${gen(inner, x, `${where}.${k}`, xo)} ${set} }${absent}` : `if (${x} === undefined) ${fail} ${decl} ${gen(inner, x, `${where}.${k}`, xo)} ${set}`}`;
        }
        const isObject = `if (typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v})) ${fail}`;
        return o === undefined ? `${isObject} ${once(v, code)}` : `${isObject} ${code} ${out} = ${o};`;
      }
      default:
        // an optional here would be an array element or a record value, which JSON cannot leave out
        throw new Error(`${where}: zod type ${d.type} is not compiled`);
    }
  }

  /**
   * `code` (the checks of an object's insides) run once per object that is frozen all the way down:
   * such an object cannot change, and the decoder shares a few (a storm's sender, its user, its
   * target, its enrichment) between thousands of events. One frozen only on top is checked each time.
   */
  function once(v: string, code: string): string {
    const passed = constant('new WeakSet()');
    return `const f${v} = Object.isFrozen(${v}); if (!f${v} || !${passed}.has(${v})) { ${code} if (f${v} && deepFrozen(${v})) ${passed}.add(${v}); }`;
  }

  const root = schema as unknown as Schema;
  const check = `function check(v) { ${gen(root, 'v', '$', undefined)} return true; }`;
  const parse = `function parse(v) { let out; ${gen(root, 'v', '$', 'out')} return out; }`;
  return { consts: consts.join('\n'), check, parse, words: [...words] };
}

/** The two functions made now, for a schema of a test's own (the project's own are generated: event-check-gen.ts). */
export function compileFunctions(schema: z.ZodType): { check: (v: unknown) => boolean; parse: (v: unknown) => unknown; FAILED: symbol } {
  const src = compileSource(schema);
  return new Function(`${RUNTIME}\n${src.consts}\n${src.check}\n${src.parse}\nreturn { check, parse, FAILED };`)() as ReturnType<typeof compileFunctions>;
}
