import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, moved } from "../src/shared/format";
import { checkConfig, shownPlaylists } from "../src/card/config";

test("durations read as m:ss or h:mm:ss", () => {
  assert.equal(formatDuration(65000), "1:05");
  assert.equal(formatDuration(3723000), "1:02:03");
  assert.equal(formatDuration(null), "–");
});

test("a dragged entry lands where it is dropped", () => {
  assert.deepEqual(moved(["a", "b", "c", "d"], 0, 2), ["b", "c", "a", "d"]);
  assert.deepEqual(moved(["a", "b", "c", "d"], 3, 0), ["d", "a", "b", "c"]);
  assert.deepEqual(moved(["a", "b"], 0, 5), ["a", "b"]);
});

test("the card shows the configured playlists in their order, else all", () => {
  const all = [{ id: "a" }, { id: "b" }, { id: "c" }];
  assert.deepEqual(shownPlaylists(all, ["c", "gone", "a"]).map((p) => p.id), ["c", "a"]);
  assert.equal(shownPlaylists(all, []).length, 3);
});

test("the card's configuration is checked", () => {
  assert.throws(() => checkConfig({ type: "x", entity: "light.kitchen" }));
  assert.throws(() => checkConfig({ type: "x", columns: 2.5 }));
  assert.equal(checkConfig({ type: "x", entity: "media_player.music_box", columns: 3 }).columns, 3);
});
