import assert from "node:assert/strict";
import { test } from "node:test";
import { element } from "../src/shared/element";

test("an element defined twice (a bundle loaded twice) is defined once, without an error", () => {
  const defined = new Map<string, unknown>();
  (globalThis as { customElements?: unknown }).customElements = {
    get: (name: string) => defined.get(name),
    define: (name: string, cls: unknown) => {
      if (defined.has(name)) throw new Error("already defined");
      defined.set(name, cls);
    },
  };
  const First = function first() { return undefined; };
  const Second = function second() { return undefined; };
  element("omb-twice")(First as unknown as CustomElementConstructor);
  element("omb-twice")(Second as unknown as CustomElementConstructor);
  assert.equal(defined.get("omb-twice"), First);
});
