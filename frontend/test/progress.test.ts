import assert from "node:assert/strict";
import { test } from "node:test";
import { anchorOfPlayer, fractionAt, positionAt } from "../src/shared/progress";

test("the position moves with the clock while playing, and stops at the duration", () => {
  const anchor = { positionMs: 1000, durationMs: 10000, playing: true, at: 500 };
  assert.equal(positionAt(anchor, 1500), 2000);
  assert.equal(positionAt(anchor, 100000), 10000);
  assert.equal(fractionAt(anchor, 1500), 0.2);
});

test("a paused or unknown-length track does not move the bar", () => {
  assert.equal(positionAt({ positionMs: 1000, durationMs: 10000, playing: false, at: 0 }, 5000), 1000);
  assert.equal(fractionAt({ positionMs: 1000, durationMs: null, playing: true, at: 0 }, 5000), 0);
});

test("a player state's position is aged by the time since position_updated_at", () => {
  const wall = Date.parse("2026-01-01T00:00:02Z");
  const anchor = anchorOfPlayer(
    { state: "playing", position_ms: 1000, position_updated_at: "2026-01-01T00:00:00Z", track: { duration_ms: 60000 } },
    10000,
    wall,
  );
  assert.equal(positionAt(anchor, 10000), 3000);
});
