// Upload audio files into the library through Home Assistant's media upload (admin only): the
// library folder is inside HA's local media, so the folder watch sees the new files.
import type { HomeAssistant } from "../api/hass";

export const UPLOAD_URL = "/api/media_source/local_source/upload";
/** Home Assistant's limit for one upload (media_source's MAX_UPLOAD_SIZE, 10 MiB), less the form. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024 - 16 * 1024;
/** The folder a playlist of one's own gets its uploads in (then they are added to it). */
export const UPLOADS_FOLDER = "Uploads";

// What the box plays (const.py AUDIO_EXTENSIONS), with the type Home Assistant's upload needs:
// it refuses anything that is not audio/*, and browsers leave some audio types empty (.m4b).
const AUDIO_TYPES: Record<string, string> = {
  aac: "audio/aac",
  aif: "audio/aiff",
  aiff: "audio/aiff",
  flac: "audio/flac",
  m4a: "audio/mp4",
  m4b: "audio/mp4",
  mka: "audio/x-matroska",
  mp3: "audio/mpeg",
  mp4: "audio/mp4",
  oga: "audio/ogg",
  ogg: "audio/ogg",
  opus: "audio/ogg",
  wav: "audio/wav",
  wma: "audio/x-ms-wma",
  webm: "audio/webm",
};

export type UploadProblem = "not_audio" | "too_big" | null;

export function audioType(name: string): string | null {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? null : (AUDIO_TYPES[name.slice(dot + 1).toLowerCase()] ?? null);
}

/** Why a file cannot be uploaded, before anything is sent. */
export function problemOf(file: { name: string; size: number }): UploadProblem {
  if (!audioType(file.name)) return "not_audio";
  if (file.size > MAX_UPLOAD_BYTES) return "too_big";
  return null;
}

/** The media-source id of a folder of the library ("" is the library folder itself). */
export function folderTarget(uploadRoot: string, folder: string): string {
  return folder ? `${uploadRoot}/${folder}` : uploadRoot;
}

export class UploadError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

export async function uploadFile(hass: HomeAssistant, target: string, file: File): Promise<void> {
  const form = new FormData();
  form.append("media_content_id", target);
  form.append("file", new File([file], file.name, { type: audioType(file.name) ?? file.type }));
  const response = await hass.fetchWithAuth(UPLOAD_URL, { method: "POST", body: form });
  if (!response.ok) throw new UploadError(response.status);
}
