// Folds the subscription's events into one state (pure: the card and the panel render from it).
import type {
  AssociationSession,
  Envelope,
  PlayerState,
  PlaylistSummary,
  PositionData,
  Room,
  RoomStatus,
  Snapshot,
  TagLink,
} from "./types";

export interface LiveState {
  player: PlayerState | null;
  playlists: PlaylistSummary[];
  tags: TagLink[];
  rooms: Room[];
  session: AssociationSession | null;
  position: PositionData | null;
  /** Bumped by a `playlist` event: an open playlist's tracks changed. */
  playlistSeq: Record<string, number>;
}

export const EMPTY: LiveState = {
  player: null,
  playlists: [],
  tags: [],
  rooms: [],
  session: null,
  position: null,
  playlistSeq: {},
};

function upsertRoom(rooms: Room[], room: Room): Room[] {
  const known = rooms.find((r) => r.room_id === room.room_id);
  const others = rooms.filter((r) => r.room_id !== room.room_id);
  // A room event carries no status: the last room_status stays until the next one.
  const merged = room.status || !known?.status ? room : { ...room, status: known.status };
  return [...others, merged].sort((a, b) => a.name.localeCompare(b.name));
}

function withStatus(rooms: Room[], status: RoomStatus): Room[] {
  return rooms.map((room) => (room.room_id === status.room_id ? { ...room, status } : room));
}

export function reduce(state: LiveState, event: Envelope): LiveState {
  const data = event.data as Record<string, unknown> | undefined;
  switch (event.type) {
    case "snapshot": {
      const snap = data as unknown as Snapshot;
      return { ...state, player: snap.player, playlists: snap.playlists, tags: snap.tags, rooms: snap.rooms ?? [] };
    }
    case "player":
      return { ...state, player: data as unknown as PlayerState };
    case "position":
      return { ...state, position: data as unknown as PositionData };
    case "playlists":
      return { ...state, playlists: (data as { playlists: PlaylistSummary[] }).playlists };
    case "playlist": {
      const summary = data as unknown as PlaylistSummary;
      const playlists = state.playlists.map((known) => (known.id === summary.id ? { ...known, ...summary } : known));
      const seq = { ...state.playlistSeq, [summary.id]: (state.playlistSeq[summary.id] ?? 0) + 1 };
      return { ...state, playlists, playlistSeq: seq };
    }
    case "tags":
      return { ...state, tags: (data as { tags: TagLink[] }).tags };
    case "tag_association":
      return { ...state, session: data as unknown as AssociationSession };
    case "room":
      return { ...state, rooms: upsertRoom(state.rooms, data as unknown as Room) };
    case "room_status":
      return { ...state, rooms: withStatus(state.rooms, data as unknown as RoomStatus) };
    default:
      return state;
  }
}
