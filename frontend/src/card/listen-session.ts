// One press of "Listen here": the Sendspin connection it opens and the room it joins, until it is
// closed (Stop, the card leaving the page, the server or the network). Closed once, it stays
// closed: a step still awaited then ends there and closes what it opened meanwhile, so a card
// removed while it connects never leaves a connection (or a member) behind. No DOM, no Lit: the
// card's element (listen.ts) gives it its steps, the unit tests give it fakes.

/** What the session needs of sendspin-js's player (SendspinPlayer has all of it). */
export interface SessionPlayer {
  unlock(): Promise<void>;
  connect(): Promise<void>;
  setVolume(volume: number): void;
  disconnect(reason: "user_request"): void;
}

/** What the session needs of the WebSocket it opens. */
export interface SessionSocket {
  close(): void;
  addEventListener(type: "close", listener: () => void): void;
}

export interface SessionSteps<P extends SessionPlayer> {
  /** The Sendspin endpoint's signed path (`sendspin/listen_url`). */
  listenPath(): Promise<string>;
  /** sendspin-js's player for this socket (its chunk loaded on the first press). */
  player(): Promise<(socket: SessionSocket, playerId: string) => P>;
  openSocket(path: string): SessionSocket;
  /** Once connected, before the volume and the join (the card fixes the player's delay). */
  connected?(player: P): Promise<void>;
  /** `sendspin/join`: rejects with code member_not_found until the server knows the player. */
  join(playerId: string): Promise<void>;
}

/** Thrown by open() when the session was closed before it was done: nothing to report. */
export class SessionClosed extends Error {
  constructor() {
    super("closed");
    this.name = "SessionClosed";
  }
}

export const JOIN_TRIES = 25; // the server knows the player once its first state arrived
export const JOIN_RETRY_MS = 200;

/** A Sendspin id that is not a public key: the server admits it without Noise (browsers). */
export function browserId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return "omb-browser-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class ListenSession<P extends SessionPlayer> {
  private closed = false;
  private lost = false;
  private socket: SessionSocket | null = null;
  private current: P | null = null;

  constructor(
    private readonly steps: SessionSteps<P>,
    private readonly onClosed: () => void,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Connect, set the volume (0..100) and join the room; resolves with the playing player. */
  async open(volume: number): Promise<P> {
    const loading = this.steps.player(); // fetched while the server answers
    loading.catch(() => undefined); // its failure is reported below, once awaited
    const path = await this.step(this.steps.listenPath());
    const create = await this.step(loading);
    const socket = (this.socket = this.steps.openSocket(path));
    socket.addEventListener("close", () => {
      this.lost = !this.closed; // the server or the network ended it, not close()
      this.close();
    });
    const playerId = browserId();
    const player = (this.current = create(socket, playerId));
    // Still within the click's activation: the browser lets the audio start.
    await this.step(player.unlock());
    await this.step(player.connect());
    if (this.steps.connected) await this.step(this.steps.connected(player));
    player.setVolume(volume);
    await this.join(playerId);
    return player;
  }

  /** End the connection (idempotent): the server removes the member. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.current?.disconnect("user_request");
    // sendspin-js closes only a socket it has adopted (connect()): close it in any case.
    this.socket?.close();
    this.onClosed();
  }

  private async join(playerId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.step(this.steps.join(playerId));
        return;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== "member_not_found" || attempt >= JOIN_TRIES || this.closed) throw err;
        await this.step(new Promise((resolve) => setTimeout(resolve, JOIN_RETRY_MS)));
      }
    }
  }

  /**
   * Await one step. Once closed, every step ends in SessionClosed (its own failure included); a
   * connection lost while opening is a failure to report (the step's own error, if it has one).
   */
  private async step<T>(pending: Promise<T>): Promise<T> {
    let value: T;
    try {
      value = await pending;
    } catch (err) {
      throw this.closed && !this.lost ? new SessionClosed() : err;
    }
    if (this.lost) throw new Error("the Sendspin connection closed");
    if (this.closed) throw new SessionClosed();
    return value;
  }
}
