/**
 * What JSON would not give back: the check that lets the default
 * serializer refuse a value instead of storing something else.
 *
 * @module
 */

/**
 * The first part of `value` that JSON would not read back equal and of the
 * same type, with where it is (`.a[2]`), or `undefined` when there is none.
 * Its path is only built on the way out of a failure.
 */
export function changedByJson(value: unknown): { value: unknown; at: string } | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : { value, at: "" };
    case "object": {
      if (value === null) return undefined;
      const prototype = Object.getPrototypeOf(value);
      if (prototype === Array.prototype) {
        const array = value as unknown[];
        for (let i = 0; i < array.length; i++) {
          // A hole reads as undefined, which JSON writes as null.
          const stray = changedByJson(array[i]);
          if (stray) return { value: stray.value, at: `[${i}]${stray.at}` };
        }
        return undefined;
      }
      if (prototype !== Object.prototype && prototype !== null) return { value, at: "" };
      const symbols = Object.getOwnPropertySymbols(value);
      if (symbols.length) return { value: symbols[0], at: "" };
      const object = value as Record<string, unknown>;
      for (const key of Object.keys(object)) {
        const stray = changedByJson(object[key]);
        if (stray) {
          const name = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
          return { value: stray.value, at: `${name}${stray.at}` };
        }
      }
      return undefined;
    }
    default:
      return { value, at: "" };
  }
}

/** What `value` is, for a message: `a Map`, `a function`, `undefined`, `the number NaN`. */
export function kind(value: unknown): string {
  switch (typeof value) {
    case "undefined":
      return "undefined";
    case "number":
      return `the number ${value}`;
    case "object": {
      const name = (value as object).constructor?.name;
      return name ? `a ${name}` : "an object";
    }
    default:
      return `a ${typeof value}`;
  }
}
