// Durations as people read them: 1:05, 1:02:03.

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "–";
  const total = Math.floor(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** The new order of `ids` once the entry at `from` is dropped at `to` (indexes). */
export function moved<T>(ids: readonly T[], from: number, to: number): T[] {
  const result = [...ids];
  if (from < 0 || from >= ids.length || to < 0 || to >= ids.length || from === to) return result;
  const [item] = result.splice(from, 1);
  result.splice(to, 0, item);
  return result;
}
