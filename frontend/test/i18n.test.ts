import assert from "node:assert/strict";
import { test } from "node:test";
import { translator } from "../src/i18n";
import { en } from "../src/i18n/en";
import { fr } from "../src/i18n/fr";

test("strings follow hass.language, with placeholders; unknown languages get English", () => {
  assert.equal(translator("fr")("card.play_playlist", { name: "Animaux" }), "Écouter Animaux");
  assert.equal(translator("fr-CA")("card.play"), "Lecture");
  assert.equal(translator("de")("card.play"), "Play");
});

test("French has every English key and the same placeholders", () => {
  for (const key of Object.keys(en) as (keyof typeof en)[]) {
    assert.ok(fr[key], key);
    const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(names(fr[key]), names(en[key]), key);
  }
});

test("a key no language has reads as itself", () => {
  assert.equal(translator("fr")("rooms.kind.bluetooth" as never), "rooms.kind.bluetooth");
});
