// The library as the panel's track picker and uploads need it (the `library/tracks` command).
import type { Track } from "../api/types";
import type { PanelContext } from "./context";

export interface LibraryTrack extends Track {
  /** Relative to the library folder, e.g. "Animal Songs/01 - Cat.mp3". */
  path: string;
}

export interface LibraryFolder {
  playlist_id: string;
  path: string;
}

export interface LibraryListing {
  tracks: LibraryTrack[];
  folders: LibraryFolder[];
  /** The library folder's media-source id for Home Assistant's media upload, or null. */
  upload_root: string | null;
}

export function loadLibrary(ctx: PanelContext): Promise<LibraryListing> {
  return ctx.api.call<LibraryListing>("library/tracks");
}

/** Tracks sorted by folder then file name, as the library folder shows them. */
export function byPath(tracks: readonly LibraryTrack[]): LibraryTrack[] {
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  return [...tracks].sort((a, b) => collator.compare(a.path, b.path));
}
