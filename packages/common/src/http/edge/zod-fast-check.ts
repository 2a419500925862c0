// A check compiled once from a zod schema that says whether a value is valid *and* would come out of the schema
// unchanged, without copying it. zod's parse builds a new copy of every object and array it accepts (a chat body of
// a few KB is copied whole on every request); for a schema with no transforms, defaults or coercion, a well-formed
// value is its own parse result, so the validator can hand it on as it is and leave zod to the bodies that fail,
// where zod makes the error message exactly as before.
//
// The check is conservative: it answers true only where it knows zod accepts the value and returns it unchanged
// (unknown keys of a stripping or strict object, keys present with the value undefined, or checks it does not know
// all answer false, and zod decides). A schema with a part it cannot judge (a transform, a default, coercion, a pipe,
// lazy or recursive parts...) gets no check at all. It reads the schema's definition (`_zod.def`), zod's documented
// introspection surface, and runs the schema's own check objects for refinements.
import type { z } from 'zod';

/** A compiled check: true means zod would accept `value` and return it unchanged. */
export type FastCheck = (value: unknown) => boolean;

/** The parts of zod's internal definitions the compiler reads. */
interface ZodInternals {
  def: {
    type: string;
    checks?: CheckInstance[];
    coerce?: boolean;
    innerType?: Schema;
    element?: Schema;
    options?: Schema[];
    shape?: Record<string, Schema>;
    catchall?: Schema;
    keyType?: Schema;
    valueType?: Schema;
  };
  values?: Set<unknown>;
}
interface Schema {
  _zod: ZodInternals;
}
interface CheckPayload {
  value: unknown;
  issues: unknown[];
}
interface CheckInstance {
  _zod: {
    def: { check: string; minimum?: number; maximum?: number; value?: unknown; inclusive?: boolean; format?: string };
    check?: (payload: CheckPayload) => unknown;
  };
}

/** A schema part the compiler cannot judge: the whole schema is left to zod. */
class Unsupported extends Error {}

/** Check kinds that only look at the value (an 'overwrite' check such as trim() changes it, so it is not here). */
const PURE_CHECKS = new Set(['min_length', 'max_length', 'length_equals', 'greater_than', 'less_than', 'multiple_of', 'number_format', 'string_format', 'custom']);

/** The compiled check of `schema`, or undefined when some part of it is beyond the compiler. */
export function compileFastCheck(schema: z.ZodType): FastCheck | undefined {
  try {
    return compile(schema as unknown as Schema, new Set());
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}

function compile(schema: Schema, seen: Set<Schema>): FastCheck {
  // A schema met again inside itself (z.lazy's recursion is rejected below; this guards shared cycles).
  if (seen.has(schema)) throw new Unsupported();
  seen.add(schema);
  try {
    const base = compileType(schema, seen);
    const checks = schema._zod.def.checks ?? [];
    if (checks.length === 0) return base;
    const run = checks.map(compileCheck);
    return (v) => {
      if (!base(v)) return false;
      for (const c of run) if (!c(v)) return false;
      return true;
    };
  } finally {
    seen.delete(schema);
  }
}

function compileType(schema: Schema, seen: Set<Schema>): FastCheck {
  const def = schema._zod.def;
  if (def.coerce) throw new Unsupported();
  switch (def.type) {
    case 'string':
      return (v) => typeof v === 'string';
    case 'number':
      // zod refuses NaN and the infinities (JSON has neither).
      return (v) => typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'null':
      return (v) => v === null;
    case 'unknown':
    case 'any':
      return () => true;
    case 'literal':
    case 'enum': {
      const values = schema._zod.values;
      if (!values) throw new Unsupported();
      return (v) => values.has(v);
    }
    case 'optional': {
      const inner = compile(def.innerType!, seen);
      return (v) => v === undefined || inner(v);
    }
    case 'nullable': {
      const inner = compile(def.innerType!, seen);
      return (v) => v === null || inner(v);
    }
    case 'array': {
      const element = compile(def.element!, seen);
      return (v) => {
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!element(v[i])) return false;
        return true;
      };
    }
    case 'union': {
      const options = def.options!.map((o) => compile(o, seen));
      return (v) => {
        for (const o of options) if (o(v)) return true;
        return false;
      };
    }
    case 'record': {
      const key = compile(def.keyType!, seen);
      const value = compile(def.valueType!, seen);
      return (v) => {
        if (!isObject(v)) return false;
        // zod's record walks every own key, symbols included; a JSON value has string keys only.
        if (Object.getOwnPropertySymbols(v).length > 0) return false;
        for (const k of Object.keys(v)) if (!key(k) || !value(v[k])) return false;
        return true;
      };
    }
    case 'object':
      return compileObject(def.shape!, def.catchall, seen);
    default:
      throw new Unsupported();
  }
}

function compileObject(shape: Record<string, Schema>, catchall: Schema | undefined, seen: Set<Schema>): FastCheck {
  const fields = new Map<string, { check: FastCheck; required: boolean }>();
  for (const key of Object.keys(shape)) fields.set(key, { check: compile(shape[key]!, seen), required: shape[key]!._zod.def.type !== 'optional' });
  let required = 0;
  for (const f of fields.values()) if (f.required) required++;
  // A loose object keeps any other key as it is; a plain one would strip it and a strict one refuse it (zod decides).
  const loose = catchall !== undefined && catchall._zod.def.type === 'unknown';
  // The value's own keys are walked, not the shape's: a body names a few of the many fields a schema knows.
  return (v) => {
    if (!isObject(v)) return false;
    // zod reads a field through the prototype chain too: only plain objects are judged here.
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return false;
    let present = 0;
    for (const k in v) {
      const f = fields.get(k);
      if (f === undefined) {
        if (!loose) return false;
        continue;
      }
      const x = v[k];
      // A key present as undefined goes to zod (JSON has none).
      if (x === undefined || !f.check(x)) return false;
      if (f.required) present++;
    }
    // A required key missing: zod makes the error.
    return present === required;
  };
}

function compileCheck(check: CheckInstance): FastCheck {
  const def = check._zod.def;
  if (!PURE_CHECKS.has(def.check)) throw new Unsupported();
  switch (def.check) {
    // The common ones, inline: no payload object per check per request.
    case 'min_length':
      return (v) => (v as { length: number }).length >= def.minimum!;
    case 'max_length':
      return (v) => (v as { length: number }).length <= def.maximum!;
    case 'greater_than':
      if (typeof def.value !== 'number') break;
      return def.inclusive ? (v) => (v as number) >= (def.value as number) : (v) => (v as number) > (def.value as number);
    case 'less_than':
      if (typeof def.value !== 'number') break;
      return def.inclusive ? (v) => (v as number) <= (def.value as number) : (v) => (v as number) < (def.value as number);
    case 'number_format':
      if (def.format === 'safeint') return (v) => Number.isSafeInteger(v);
      break;
  }
  // Any other pure check (refinements included) runs as zod runs it: on a payload, reporting through its issues.
  const run = check._zod.check;
  if (!run) throw new Unsupported();
  return (v) => {
    const payload: CheckPayload = { value: v, issues: [] };
    const r = run(payload);
    // An async refinement cannot be judged here; zod's safeParse would refuse it too.
    if (r instanceof Promise) {
      r.catch(() => undefined);
      return false;
    }
    return payload.issues.length === 0 && payload.value === v;
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
