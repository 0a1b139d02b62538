// Where the track is now, from the last position the box sent (interpolated while playing).

export interface Anchor {
  positionMs: number;
  durationMs: number | null;
  playing: boolean;
  /** Local clock (ms, performance.now() or Date.now()) when the position was true. */
  at: number;
}

export function positionAt(anchor: Anchor, now: number): number {
  const moved = anchor.playing ? Math.max(0, now - anchor.at) : 0;
  const position = anchor.positionMs + moved;
  return anchor.durationMs === null ? position : Math.min(position, anchor.durationMs);
}

/** Fraction (0..1) of the track played; 0 when the duration is unknown. */
export function fractionAt(anchor: Anchor, now: number): number {
  if (!anchor.durationMs) return 0;
  return Math.min(1, positionAt(anchor, now) / anchor.durationMs);
}

/** The anchor of a player state (position_ms at position_updated_at, server time). */
export function anchorOfPlayer(
  player: { state: string; position_ms: number; position_updated_at: string; track: { duration_ms: number | null } | null },
  localNow: number,
  wallNow: number,
): Anchor {
  const updated = Date.parse(player.position_updated_at);
  const age = Number.isNaN(updated) ? 0 : Math.max(0, wallNow - updated);
  return {
    positionMs: player.position_ms,
    durationMs: player.track?.duration_ms ?? null,
    playing: player.state === "playing",
    at: localNow - age,
  };
}
