import assert from "node:assert/strict";
import { test } from "node:test";
import { visibleRows } from "../src/panel/window";
import { indexTracks, normalize, search } from "../src/panel/search";
import { byPath, type LibraryTrack } from "../src/panel/library-data";
import { MAX_UPLOAD_BYTES, audioType, folderTarget, problemOf } from "../src/panel/upload";

test("a long list renders the rows in view and a few around them", () => {
  assert.deepEqual(visibleRows(0, 480, 48, 1000, 5), { first: 0, end: 15 });
  assert.deepEqual(visibleRows(4800, 480, 48, 1000, 5), { first: 95, end: 115 });
  // At the bottom: up to the last row, never past it.
  assert.deepEqual(visibleRows(48 * 990, 480, 48, 1000, 5), { first: 985, end: 1000 });
  assert.deepEqual(visibleRows(0, 480, 48, 3, 5), { first: 0, end: 3 });
  assert.deepEqual(visibleRows(0, 480, 48, 0), { first: 0, end: 0 });
  // A list that shrank under a scrolled view still shows its last rows.
  assert.deepEqual(visibleRows(48 * 500, 480, 48, 10, 2), { first: 9, end: 10 });
});

const track = (path: string, title: string, artist: string | null = null): LibraryTrack => ({
  track_id: path,
  path,
  title,
  artist,
  album: null,
  duration_ms: 1000,
});

test("the search ignores case and accents and wants every word", () => {
  assert.equal(normalize("Frère-Jacques  É"), "frere jacques e");
  const index = indexTracks([
    track("Lullabies/01 Frère Jacques.mp3", "Frère Jacques", "Maman"),
    track("Animals/02 Cat.mp3", "Cat", "Kids"),
  ]);
  assert.deepEqual(search(index, "frere").map((t) => t.title), ["Frère Jacques"]);
  assert.deepEqual(search(index, "kids cat").map((t) => t.title), ["Cat"]);
  assert.deepEqual(search(index, "animals").map((t) => t.title), ["Cat"]);
  assert.deepEqual(search(index, "cat dog"), []);
  assert.equal(search(index, "  ").length, 2);
});

test("the library sorts by folder then file, numbers as numbers", () => {
  const sorted = byPath([track("B/10 x.mp3", "x"), track("A/z.mp3", "z"), track("B/2 y.mp3", "y")]);
  assert.deepEqual(sorted.map((t) => t.path), ["A/z.mp3", "B/2 y.mp3", "B/10 x.mp3"]);
});

test("uploads: audio only, under Home Assistant's limit, into the right folder", () => {
  assert.equal(audioType("Chapter 1.M4B"), "audio/mp4");
  assert.equal(audioType("song.wav"), "audio/wav");
  assert.equal(audioType("cover.jpg"), null);
  assert.equal(audioType("README"), null);
  assert.equal(problemOf({ name: "a.mp3", size: 1000 }), null);
  assert.equal(problemOf({ name: "a.txt", size: 1000 }), "not_audio");
  assert.equal(problemOf({ name: "a.mp3", size: MAX_UPLOAD_BYTES + 1 }), "too_big");
  const root = "media-source://media_source/local/open_music_box";
  assert.equal(folderTarget(root, "Animal Songs"), `${root}/Animal Songs`);
  assert.equal(folderTarget(root, ""), root);
});
