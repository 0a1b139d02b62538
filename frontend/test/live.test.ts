import assert from "node:assert/strict";
import { test } from "node:test";
import { EMPTY, reduce } from "../src/api/live";
import type { PlayerState } from "../src/api/types";

const player: PlayerState = {
  state: "playing",
  track: { track_id: "t1", title: "Dog", artist: null, album: null, duration_ms: 65000 },
  playlist_id: "p1",
  volume: 0.5,
  max_volume: 0.8,
  muted: false,
  position_ms: 1000,
  position_updated_at: "2026-01-01T00:00:00Z",
};
const playlist = { id: "p1", name: "Animals", kind: "user", read_only: false, track_count: 3, mode: "album" } as const;

test("a snapshot sets everything; later events replace their part", () => {
  let state = reduce(EMPTY, { type: "snapshot", data: { player, playlists: [playlist], tags: [], rooms: [] } });
  assert.equal(state.player?.state, "playing");
  assert.equal(state.playlists.length, 1);
  state = reduce(state, { type: "playlists", data: { playlists: [] } });
  assert.deepEqual(state.playlists, []);
  state = reduce(state, { type: "position", data: { position_ms: 2000, duration_ms: 65000, track_id: "t1", playing: true } });
  assert.equal(state.position?.position_ms, 2000);
});

test("a playlist event updates its summary and bumps its counter", () => {
  let state = reduce(EMPTY, { type: "playlists", data: { playlists: [playlist] } });
  state = reduce(state, { type: "playlist", data: { ...playlist, track_count: 4, track_ids: [] } });
  assert.equal(state.playlists[0].track_count, 4);
  assert.equal(state.playlistSeq.p1, 1);
});

test("room events insert or replace a room, sorted by name", () => {
  const room = (room_id: string, name: string) => ({ room_id, name, player, members: [] });
  let state = reduce(EMPTY, { type: "room", data: room("b", "Kitchen") });
  state = reduce(state, { type: "room", data: room("a", "Attic") });
  state = reduce(state, { type: "room", data: room("b", "Bedroom") });
  assert.deepEqual(state.rooms.map((r) => r.name), ["Attic", "Bedroom"]);
});

test("an association session follows tag_association events; unknown events change nothing", () => {
  const state = reduce(EMPTY, { type: "tag_association", data: { session_id: "s", state: "waiting" } });
  assert.equal(state.session?.state, "waiting");
  assert.equal(reduce(state, { type: "import_progress", data: {} }), state);
});

test("room_status sets a room's live status; a later room event keeps it", () => {
  const status = {
    room_id: "a",
    members: [{ member_id: "s1", connected: true, error_ms: 1.5, speed: 1.0001, offset_ms: 0, realignments: 2 }],
  };
  let state = reduce(EMPTY, { type: "room", data: { room_id: "a", name: "Attic", player, members: [] } });
  state = reduce(state, { type: "room_status", data: status });
  assert.equal(state.rooms[0].status?.members[0].error_ms, 1.5);
  state = reduce(state, { type: "room", data: { room_id: "a", name: "Attic", player, members: [] } });
  assert.equal(state.rooms[0].status?.members[0].realignments, 2);
  state = reduce(state, { type: "room_status", data: { room_id: "other", members: [] } });
  assert.equal(state.rooms[0].status?.members.length, 1);
});
