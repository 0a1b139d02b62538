// The bundle's own strings, picked by hass.language (English when the language is not known;
// the key itself for a key no language has, e.g. a member kind added later by the server).
import { en, type StringKey } from "./en";
import { fr } from "./fr";

export type { StringKey };
export type Translate = (key: StringKey, values?: Record<string, string | number>) => string;

const LANGUAGES: Record<string, Record<StringKey, string>> = { en, fr };

export function translator(language: string | undefined): Translate {
  const base = (language ?? "en").toLowerCase().split("-")[0];
  const strings = LANGUAGES[base] ?? en;
  return (key, values = {}) =>
    (strings[key] ?? en[key] ?? key).replace(/\{(\w+)\}/g, (whole, name: string) =>
      name in values ? String(values[name]) : whole,
    );
}
