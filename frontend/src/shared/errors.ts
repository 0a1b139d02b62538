// A command's error in the user's language: the integration's own translation of its
// translation_key (translations/<lang>.json, "exceptions"), else the server's message.
import type { HomeAssistant, Localize, WsError } from "../api/hass";
import { DOMAIN } from "../api/box";
import type { Translate } from "../i18n";

const cache = new Map<string, Promise<Localize | null>>();

function exceptions(hass: HomeAssistant): Promise<Localize | null> {
  const key = hass.language;
  let found = cache.get(key);
  if (!found) {
    found = hass.loadBackendTranslation
      ? hass.loadBackendTranslation("exceptions", DOMAIN).catch(() => null)
      : Promise.resolve(null);
    cache.set(key, found);
  }
  return found;
}

export async function errorText(hass: HomeAssistant, t: Translate, err: unknown): Promise<string> {
  const error = (err ?? {}) as WsError;
  if (error.translation_key) {
    const localize = await exceptions(hass);
    const text = localize?.(
      `component.${DOMAIN}.exceptions.${error.translation_key}.message`,
      error.translation_placeholders ?? {},
    );
    if (text) return text;
  }
  const message = error.message ?? (err instanceof Error ? err.message : String(err));
  return t("error.generic", { message });
}
