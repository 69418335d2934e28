import type { z } from 'zod';
import { NormalizedEvent } from './event.ts';

/**
 * Whether a value fits a zod schema, by a check compiled once from the schema itself. `decode`
 * validates every event by default, and zod's generic safeParse (a result, a context, a copy of
 * every object it checks) cost more than decoding the event did. The schema stays the single
 * source: a change to event.ts changes the check, and a kind of schema the compiler does not know
 * fails when the module loads, never as a check that lets things through.
 *
 * Only the answer is fast: on false the caller asks zod why (safeParse) and reports that.
 * (Writing the JSON in the same walk was tried: building the string in JavaScript cost twice
 * V8's JSON.stringify, which the event still goes through.)
 */
export type Check = (value: unknown) => boolean;

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

export function compileCheck(schema: z.ZodType): Check {
  const consts: unknown[] = [];
  let vars = 0;
  const constant = (v: unknown) => `k[${consts.push(v) - 1}]`;
  const fresh = () => `v${vars++}`;

  /** Statements that return false when the value in `v` does not fit `node`. */
  function gen(node: Schema, v: string, where: string): string {
    const d = node._zod.def;
    switch (d.type) {
      case 'string': {
        let code = `if (typeof ${v} !== 'string') return false;`;
        for (const c of d.checks ?? []) {
          const cd = c._zod.def;
          if (cd.check !== 'string_format' || cd.format !== 'regex' || !cd.pattern) throw new Error(`${where}: string check ${cd.check}/${cd.format ?? ''} is not compiled`);
          // a global or sticky regex keeps state from one test() to the next
          if (cd.pattern.global || cd.pattern.sticky) throw new Error(`${where}: stateful regex`);
          code += `if (!${constant(cd.pattern)}.test(${v})) return false;`;
        }
        return code;
      }
      case 'number': {
        let int = false;
        for (const c of d.checks ?? []) {
          const cd = c._zod.def;
          if (cd.check === 'number_format' && cd.format === 'safeint') int = true;
          else throw new Error(`${where}: number check ${cd.check}/${cd.format ?? ''} is not compiled`);
        }
        // zod's number refuses NaN and the infinities
        return `if (typeof ${v} !== 'number' || !${int ? 'Number.isSafeInteger' : 'Number.isFinite'}(${v})) return false;`;
      }
      case 'boolean':
        return `if (typeof ${v} !== 'boolean') return false;`;
      case 'enum':
      case 'literal': {
        const allowed = new Set(d.type === 'enum' ? Object.values(d.entries!) : d.values!);
        return `if (!${constant(allowed)}.has(${v})) return false;`;
      }
      case 'array': {
        const i = fresh();
        const x = fresh();
        return `if (!Array.isArray(${v})) return false; for (let ${i} = 0; ${i} < ${v}.length; ${i}++) { const ${x} = ${v}[${i}]; ${gen(d.element!, x, `${where}[]`)} }`;
      }
      case 'record': {
        const kd = d.keyType!._zod.def;
        if (kd.type !== 'string' || kd.checks?.length) throw new Error(`${where}: record keys other than plain strings are not compiled`);
        const vals = fresh();
        const i = fresh();
        const x = fresh();
        // an object's own keys are strings (JSON leaves symbols out): only the values need a look
        return `if (typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v})) return false; ${once(v, `const ${vals} = Object.values(${v}); for (let ${i} = 0; ${i} < ${vals}.length; ${i}++) { const ${x} = ${vals}[${i}]; ${gen(d.valueType!, x, `${where}{}`)} }`)}`;
      }
      case 'object': {
        let code = '';
        for (const [k, sub] of Object.entries(d.shape!)) {
          const x = fresh();
          const optional = sub._zod.def.type === 'optional';
          const inner = optional ? sub._zod.def.innerType! : sub;
          if (inner._zod.def.type === 'optional') throw new Error(`${where}.${k}: optional of optional`);
          // an optional key may be absent or undefined; a required one may not (zod says the same)
          code += `const ${x} = ${v}[${JSON.stringify(k)}]; ${optional ? `if (${x} !== undefined) { ${gen(inner, x, `${where}.${k}`)} }` : `if (${x} === undefined) return false; ${gen(inner, x, `${where}.${k}`)}`}`;
        }
        return `if (typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v})) return false; ${once(v, code)}`;
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
    const passed = constant(new WeakSet<object>());
    return `const f${v} = Object.isFrozen(${v}); if (!f${v} || !${passed}.has(${v})) { ${code} if (f${v} && ${constant(deepFrozen)}(${v})) ${passed}.add(${v}); }`;
  }

  const body = gen(schema as unknown as Schema, 'v', '$');
  const make = new Function('k', `return function check(v) { ${body} return true; };`) as (k: unknown[]) => Check;
  return make(consts);
}

/** Whether nothing inside `o` can change: it and every object and array in it are frozen, and none has a getter. */
function deepFrozen(o: object): boolean {
  if (!Object.isFrozen(o)) return false;
  for (const d of Object.values(Object.getOwnPropertyDescriptors(o))) {
    if (!('value' in d)) return false;
    if (typeof d.value === 'object' && d.value !== null && !deepFrozen(d.value as object)) return false;
  }
  return true;
}

/** NormalizedEvent's check (see compileCheck). */
export const isNormalizedEvent: Check = compileCheck(NormalizedEvent);
