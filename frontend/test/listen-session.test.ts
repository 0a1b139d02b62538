import assert from "node:assert/strict";
import { test } from "node:test";
import { ListenSession, SessionClosed, type SessionPlayer, type SessionSocket } from "../src/card/listen-session";

interface Gate {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function gate(): Gate {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

class FakeSocket implements SessionSocket {
  closed = false;
  private listeners: (() => void)[] = [];
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.listeners) listener();
  }
  addEventListener(_type: "close", listener: () => void): void {
    this.listeners.push(listener);
  }
}

/** sendspin-js's player as the session sees it; each step waits for its gate when it has one. */
class FakePlayer implements SessionPlayer {
  volume = -1;
  disconnected = false;
  constructor(
    readonly socket: FakeSocket,
    readonly id: string,
    private readonly world: World,
  ) {}
  unlock(): Promise<void> {
    this.world.calls.push("unlock");
    return this.world.gates.unlock?.promise ?? Promise.resolve();
  }
  connect(): Promise<void> {
    this.world.calls.push("connect");
    return this.world.gates.connect?.promise ?? Promise.resolve();
  }
  setVolume(volume: number): void {
    this.volume = volume;
  }
  disconnect(): void {
    this.disconnected = true;
  }
}

class World {
  calls: string[] = [];
  gates: Partial<Record<"path" | "unlock" | "connect", Gate>> = {};
  sockets: FakeSocket[] = [];
  players: FakePlayer[] = [];
  joinAnswers: (string | null)[] = []; // error codes, then null: joined
  closedCount = 0;
  session = new ListenSession<FakePlayer>(
    {
      listenPath: async () => {
        this.calls.push("listen_url");
        await this.gates.path?.promise;
        return "/api/open_music_box/sendspin/entry?authSig=x";
      },
      player: async () => (socket, playerId) => {
        const player = new FakePlayer(socket as FakeSocket, playerId, this);
        this.players.push(player);
        return player;
      },
      openSocket: (path) => {
        this.calls.push(`socket ${path.split("?")[0]}`);
        const socket = new FakeSocket();
        this.sockets.push(socket);
        return socket;
      },
      join: async (playerId) => {
        this.calls.push(`join ${playerId.slice(0, 12)}`);
        const code = this.joinAnswers.shift() ?? null;
        if (code) throw { code, message: code };
      },
    },
    () => this.closedCount++,
  );
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(check(), "never happened");
}

test("a session connects, sets its volume and joins once the server knows the player", async () => {
  const world = new World();
  world.joinAnswers = ["member_not_found", null];
  const player = await world.session.open(80);
  assert.deepEqual(world.calls, [
    "listen_url",
    "socket /api/open_music_box/sendspin/entry",
    "unlock",
    "connect",
    "join omb-browser-",
    "join omb-browser-",
  ]);
  assert.equal(player.volume, 80);
  assert.match(player.id, /^omb-browser-[0-9a-f]{16}$/);
  assert.equal(player.socket.closed, false);
  world.session.close();
  world.session.close();
  assert.ok(player.disconnected && player.socket.closed);
  assert.equal(world.closedCount, 1);
});

test("closed before the server answers: no socket is opened", async () => {
  const world = new World();
  world.gates.path = gate();
  const opening = world.session.open(80);
  await until(() => world.calls.includes("listen_url"));
  world.session.close();
  world.gates.path.resolve();
  await assert.rejects(opening, SessionClosed);
  assert.deepEqual(world.sockets, []);
  assert.equal(world.closedCount, 1);
});

test("closed while unlocking the audio: the socket closes and the player never connects", async () => {
  const world = new World();
  world.gates.unlock = gate();
  const opening = world.session.open(80);
  await until(() => world.calls.includes("unlock"));
  world.session.close();
  world.gates.unlock.resolve();
  await assert.rejects(opening, SessionClosed);
  assert.ok(world.sockets[0].closed && world.players[0].disconnected);
  assert.ok(!world.calls.includes("connect"));
  assert.ok(!world.calls.some((call) => call.startsWith("join")));
});

test("closed while connecting (the card left the page): the socket closes, the room is never joined", async () => {
  const world = new World();
  world.gates.connect = gate();
  const opening = world.session.open(80);
  await until(() => world.calls.includes("connect"));
  world.session.close();
  // sendspin-js rejects connect() when its socket closes before opening.
  world.gates.connect.reject(new Error("Sendspin: Adopted WebSocket closed before opening"));
  await assert.rejects(opening, SessionClosed);
  assert.ok(world.sockets[0].closed && world.players[0].disconnected);
  assert.ok(!world.calls.some((call) => call.startsWith("join")));
  assert.equal(world.closedCount, 1);
});

test("closed while joining: the retries stop", async () => {
  const world = new World();
  world.joinAnswers = Array(30).fill("member_not_found");
  const opening = world.session.open(80);
  await until(() => world.calls.includes("join omb-browser-"));
  world.session.close();
  await assert.rejects(opening, SessionClosed);
  assert.equal(world.calls.filter((call) => call.startsWith("join")).length, 1);
});

test("a connection the server ends while opening is a failure to report", async () => {
  const world = new World();
  world.gates.connect = gate();
  const opening = world.session.open(80);
  await until(() => world.calls.includes("connect"));
  world.sockets[0].close(); // refused
  world.gates.connect.reject(new Error("Sendspin: Adopted WebSocket closed before opening"));
  await assert.rejects(opening, /closed before opening/);
  assert.ok(world.session.isClosed && world.players[0].disconnected);
  assert.equal(world.closedCount, 1);
});

test("a connection the server ends while playing closes the session", async () => {
  const world = new World();
  const player = await world.session.open(50);
  player.socket.close();
  assert.ok(world.session.isClosed && player.disconnected);
  assert.equal(world.closedCount, 1);
});

test("another error while joining is reported as it is", async () => {
  const world = new World();
  world.joinAnswers = ["room_full"];
  await assert.rejects(world.session.open(80), (err: { code?: string }) => err.code === "room_full");
});
