// Upload files into a playlist: a folder playlist gets them in its folder (the folder watch
// adds them); a playlist of one's own gets them in the library's Uploads folder, then added.
// Every file is checked before the first is sent: a refused batch uploads nothing.
import type { PlaylistDetail } from "../api/types";
import type { PanelContext } from "./context";
import { loadLibrary } from "./library-data";
import { UPLOADS_FOLDER, UploadError, folderTarget, problemOf, uploadFile } from "./upload";

export interface UploadOutcome {
  /** Translated messages: what failed. */
  errors: string[];
  /** Translated message: what was done ("" when nothing). */
  done: string;
}

export async function uploadToPlaylist(
  ctx: PanelContext,
  playlist: PlaylistDetail,
  files: readonly File[],
  progress: (done: number, total: number) => void,
): Promise<UploadOutcome> {
  const t = ctx.t;
  const refused = files.flatMap((file) => {
    const problem = problemOf(file);
    if (problem === "not_audio") return [t("library.upload_not_audio", { name: file.name })];
    if (problem === "too_big") return [t("library.upload_too_big", { name: file.name })];
    return [];
  });
  if (refused.length) return { errors: refused, done: "" };
  const listing = await loadLibrary(ctx);
  const folder =
    playlist.kind === "folder"
      ? listing.folders.find((found) => found.playlist_id === playlist.id)?.path
      : playlist.kind === "user"
        ? UPLOADS_FOLDER
        : undefined;
  if (!listing.upload_root || folder === undefined) return { errors: [t("library.upload_unavailable")], done: "" };
  // Home Assistant's upload would replace a file of the same name without a word.
  const present = new Set(listing.tracks.map((track) => track.path));
  const taken = files.filter((file) => present.has(folder ? `${folder}/${file.name}` : file.name));
  if (taken.length) return { errors: taken.map((file) => t("library.upload_exists", { name: file.name })), done: "" };
  const target = folderTarget(listing.upload_root, folder);
  const errors: string[] = [];
  const uploaded: string[] = [];
  for (const [index, file] of files.entries()) {
    progress(index, files.length);
    try {
      await uploadFile(ctx.hass, target, file);
      uploaded.push(file.name);
    } catch (err) {
      const status = err instanceof UploadError ? err.status : 0;
      errors.push(
        status === 413
          ? t("library.upload_too_big", { name: file.name })
          : t("library.upload_failed", { name: file.name, status: status || "–" }),
      );
    }
  }
  progress(files.length, files.length);
  if (!uploaded.length) return { errors, done: "" };
  if (playlist.kind === "folder") return { errors, done: t("library.uploaded_folder", { names: uploaded.join(", ") }) };
  // A playlist of one's own: read the new files now, then add them in the order chosen.
  await ctx.api.call("rescan");
  const after = await loadLibrary(ctx);
  const byPath = new Map(after.tracks.map((track) => [track.path, track.track_id]));
  const ids: string[] = [];
  const added: string[] = [];
  for (const name of uploaded) {
    const id = byPath.get(folder ? `${folder}/${name}` : name);
    if (id) {
      ids.push(id);
      added.push(name);
    } else errors.push(t("library.upload_unreadable", { name }));
  }
  if (ids.length) await ctx.api.call("playlists/add_tracks", { playlist_id: playlist.id, track_ids: ids });
  return { errors, done: ids.length ? t("library.uploaded", { names: added.join(", ") }) : "" };
}
