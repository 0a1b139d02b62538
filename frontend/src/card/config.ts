// The card's configuration (YAML or the visual editor).

export interface CardConfig {
  type: string;
  entity?: string;
  title?: string;
  /** Playlist ids shown, in this order; absent or empty: every playlist. */
  playlists?: string[];
  /** Columns of the cover grid; absent or 0: as many as fit. */
  columns?: number;
}

export function checkConfig(config: unknown): CardConfig {
  if (!config || typeof config !== "object") throw new Error("Invalid configuration");
  const card = config as CardConfig;
  if (card.entity !== undefined && !String(card.entity).startsWith("media_player.")) {
    throw new Error("entity must be a media_player (the box or a room)");
  }
  if (card.columns !== undefined && (!Number.isInteger(card.columns) || card.columns < 0 || card.columns > 12)) {
    throw new Error("columns must be an integer from 0 to 12");
  }
  if (card.playlists !== undefined && !Array.isArray(card.playlists)) throw new Error("playlists must be a list");
  return card;
}

/** The playlists to show: the configured ones in their order, else all. */
export function shownPlaylists<T extends { id: string }>(all: readonly T[], wanted: readonly string[] | undefined): T[] {
  if (!wanted || wanted.length === 0) return [...all];
  const byId = new Map(all.map((playlist) => [playlist.id, playlist]));
  return wanted.flatMap((id) => (byId.has(id) ? [byId.get(id) as T] : []));
}
