// The box's live state and command results, as the integration's WebSocket API sends them.

export interface Track {
  track_id: string;
  title: string | null;
  artist: string | null;
  album: string | null;
  duration_ms: number | null;
}

export interface PlayerState {
  available?: boolean;
  state: "idle" | "playing" | "paused";
  track: Track | null;
  playlist_id: string | null;
  volume: number;
  max_volume: number;
  muted: boolean;
  position_ms: number;
  position_updated_at: string;
  sleep_timer_ends_at?: string | null;
}

export interface PlaylistSummary {
  id: string;
  name: string;
  kind: "folder" | "m3u" | "user";
  read_only: boolean;
  track_count: number;
  mode: "album" | "audiobook";
}

export interface PlaylistDetail extends PlaylistSummary {
  playlist_seq: number;
  track_ids: string[];
  tracks: Track[];
}

export interface TagLink {
  tag_id: string;
  playlist_id: string;
  playlist_name: string | null;
  stale: boolean;
}

export type SessionState = "waiting" | "duplicate" | "linked" | "timeout" | "cancelled";

export interface AssociationSession {
  session_id: string;
  state: SessionState;
  playlist_id: string;
  tag_id: string | null;
  current_playlist_id: string | null;
  expires_at: string;
  reason: string | null;
}

export interface RoomMember {
  member_id: string;
  kind: string;
  name: string;
  available: boolean;
}

/** A member's live sync status (room_status events, at most once a second). */
export interface MemberStatus {
  member_id: string;
  connected: boolean;
  error_ms: number | null;
  speed: number;
  offset_ms: number;
  realignments: number;
}

export interface RoomStatus {
  room_id: string;
  members: MemberStatus[];
}

export interface Room {
  room_id: string;
  name: string;
  player: PlayerState;
  members: RoomMember[];
  status?: RoomStatus;
}

export interface PositionData {
  position_ms: number;
  duration_ms: number | null;
  track_id: string | null;
  playing: boolean;
}

export interface Snapshot {
  player: PlayerState;
  playlists: PlaylistSummary[];
  tags: TagLink[];
  rooms: Room[];
}

export interface Envelope {
  seq?: number;
  type: string;
  server_time?: string;
  data?: unknown;
}
