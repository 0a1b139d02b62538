// One box's WebSocket commands (open_music_box/<name>, with its entry_id) and its subscription.
import type { HomeAssistant, Unsubscribe } from "./hass";
import type { Envelope } from "./types";

export const DOMAIN = "open_music_box";

export interface BoxEntry {
  entry_id: string;
  title: string;
  state: string;
}

export class BoxApi {
  constructor(
    private readonly hass: () => HomeAssistant,
    readonly entryId: string,
  ) {}

  call<T = Record<string, unknown>>(command: string, fields: Record<string, unknown> = {}): Promise<T> {
    return this.hass().callWS<T>({ type: `${DOMAIN}/${command}`, entry_id: this.entryId, ...fields });
  }

  subscribe(onEvent: (event: Envelope) => void): Promise<Unsubscribe> {
    return this.hass().connection.subscribeMessage<Envelope>(onEvent, {
      type: `${DOMAIN}/subscribe`,
      entry_id: this.entryId,
    });
  }
}

/** Every loaded Open Music Box of this Home Assistant. */
export async function listBoxes(hass: HomeAssistant): Promise<BoxEntry[]> {
  const entries = await hass.callWS<BoxEntry[]>({ type: "config_entries/get", domain: DOMAIN });
  return entries.filter((entry) => entry.state === "loaded");
}

/** The box (config entry) of a box or room media player. */
export async function entryOfEntity(hass: HomeAssistant, entityId: string): Promise<string | null> {
  const entry = await hass.callWS<{ config_entry_id: string | null }>({
    type: "config/entity_registry/get",
    entity_id: entityId,
  });
  return entry.config_entry_id;
}
