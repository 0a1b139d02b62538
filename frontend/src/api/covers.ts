// Playlist covers: the box's browse tiles carry them as URLs of Home Assistant's media player
// proxy (signed with the player's token), so the browser never reads the disk.
import type { HomeAssistant } from "./hass";

interface BrowseItem {
  media_content_id: string;
  thumbnail: string | null;
  children?: BrowseItem[];
}

const PLAYLIST_PREFIX = "playlist:";

export async function loadCovers(hass: HomeAssistant, entityId: string): Promise<Map<string, string>> {
  const root = await hass.callWS<BrowseItem>({ type: "media_player/browse_media", entity_id: entityId });
  const covers = new Map<string, string>();
  for (const child of root.children ?? []) {
    if (child.thumbnail && child.media_content_id.startsWith(PLAYLIST_PREFIX)) {
      covers.set(child.media_content_id.slice(PLAYLIST_PREFIX.length), child.thumbnail);
    }
  }
  return covers;
}

export interface EntityRegistryEntry {
  entity_id: string;
  config_entry_id: string | null;
}

/** The box's own media player and max-volume number (not its rooms'), for an admin. */
export async function boxEntities(
  hass: HomeAssistant,
  entryId: string,
): Promise<{ player: string | null; maxVolume: string | null }> {
  const all = await hass.callWS<EntityRegistryEntry[]>({ type: "config/entity_registry/list" });
  const mine = all.filter((entry) => entry.config_entry_id === entryId).map((entry) => entry.entity_id);
  const player =
    mine.find((id) => id.startsWith("media_player.") && hass.states[id]?.attributes.room_id === undefined) ?? null;
  const maxVolume = mine.find((id) => id.startsWith("number.") && id.endsWith("max_volume")) ?? null;
  return { player, maxVolume };
}
