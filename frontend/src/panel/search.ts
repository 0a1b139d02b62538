// The track picker's search: case- and accent-insensitive, every word of the query somewhere
// in the title, artist, album or file path.
import type { LibraryTrack } from "./library-data";

export function normalize(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

export interface Searchable<T> {
  item: T;
  text: string;
}

export function indexTracks(tracks: readonly LibraryTrack[]): Searchable<LibraryTrack>[] {
  return tracks.map((track) => ({
    item: track,
    text: normalize([track.title, track.artist, track.album, track.path].filter(Boolean).join(" ")),
  }));
}

export function search<T>(index: readonly Searchable<T>[], query: string): T[] {
  const words = normalize(query).split(" ").filter(Boolean);
  if (words.length === 0) return index.map((entry) => entry.item);
  return index.filter((entry) => words.every((word) => entry.text.includes(word))).map((entry) => entry.item);
}
