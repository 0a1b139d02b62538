// "Listen here": this browser tab joins the card's room as a Sendspin player (sendspin-js),
// with its own volume. Leaving the page (or the card) closes the connection: the server then
// removes the member, nothing is stored.
import type * as Sendspin from "@sendspin/sendspin-js";
import type { SendspinPlayer } from "@sendspin/sendspin-js";
import { LitElement, css, html, nothing } from "lit";
import { property, state } from "lit/decorators.js";
import { DOMAIN } from "../api/box";
import type { HomeAssistant } from "../api/hass";
import { translator } from "../i18n";
import { errorText } from "../shared/errors";
import { element } from "../shared/element";
import { icon } from "../shared/icons";
import { ListenSession, SessionClosed } from "./listen-session";
import "./volume";

const mdiHeadphones =
  "M12,1C7,1 3,5 3,10V17A3,3 0 0,0 6,20H9V12H5V10A7,7 0 0,1 12,3A7,7 0 0,1 19,10V12H15V20H18A3,3 0 0,0 21,17V10C21,5 16.97,1 12,1Z";
type Status = "off" | "connecting" | "on";
// The output latency is read this many times, this far apart, once per listen (see fixDelay).
const LATENCY_READS = 5;
const LATENCY_READ_MS = 40;

// sendspin-js is most of the card's weight, and only a press of "Listen here" needs it: a chunk
// next to card.js, fetched then (once; a failed fetch may be tried again).
let sendspin: Promise<typeof Sendspin> | null = null;
function loadSendspin(): Promise<typeof Sendspin> {
  sendspin ??= import("@sendspin/sendspin-js").catch((err: unknown) => {
    sendspin = null;
    throw err;
  });
  return sendspin;
}

/**
 * The AudioContext's output latency, read a few times once its audio runs (the median), plus
 * sendspin-js's platform default, as the player's fixed static delay for this listen.
 */
async function fixDelay(player: SendspinPlayer, platformMs: number): Promise<void> {
  const reads: number[] = [];
  for (let i = 0; i < 3 * LATENCY_READS && reads.length < LATENCY_READS; i++) {
    const ms = player.syncInfo.outputLatencyMs;
    if (ms > 0) reads.push(ms);
    await new Promise((resolve) => setTimeout(resolve, LATENCY_READ_MS));
  }
  reads.sort((a, b) => a - b);
  const latencyMs = reads.length ? reads[reads.length >> 1] : 0;
  player.setSyncDelay(platformMs + latencyMs);
  console.info(`Listen here: output latency ${latencyMs.toFixed(1)} ms, fixed delay ${platformMs + latencyMs} ms`);
}

@element("omb-listen")
export class OmbListen extends LitElement {
  @property({ attribute: false }) hass!: HomeAssistant;
  @property() entryId = "";
  @property() roomId = "";
  @state() private status: Status = "off";
  @state() private volume = 0.8;
  @state() private problem = "";
  private session: ListenSession<SendspinPlayer> | null = null;
  private player: SendspinPlayer | null = null; // while it plays (the browser test reads it)
  private readonly onPageHide = () => this.leave();

  static styles = css`
    :host { display: block; margin-bottom: 12px; }
    button { display: flex; align-items: center; gap: 8px; width: 100%; justify-content: center; min-height: 48px;
      border-radius: 24px; border: 2px solid var(--primary-color, #03a9f4); cursor: pointer; font: inherit;
      background: none; color: var(--primary-text-color); }
    button[aria-pressed="true"] { background: var(--primary-color, #03a9f4); color: var(--text-primary-color, #fff); }
    button:focus-visible { outline: 3px solid var(--accent-color, #ff9800); outline-offset: 2px; }
    svg { width: 24px; height: 24px; fill: currentColor; }
    omb-volume { margin-top: 8px; }
    .error { color: var(--error-color, #db4437); padding-top: 8px; }
  `;

  private get t() {
    return translator(this.hass?.language);
  }

  connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener("pagehide", this.onPageHide);
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener("pagehide", this.onPageHide);
    // Removed from the page (a view change, the card deleted): leave the room. A card moved
    // within the page (a view laying its columns out again) is connected again in the same
    // task, before this runs, and keeps listening.
    queueMicrotask(() => {
      if (!this.isConnected) this.leave();
    });
  }

  private async listen(): Promise<void> {
    if (this.session) return;
    const session = (this.session = new ListenSession<SendspinPlayer>(
      {
        listenPath: async () => {
          const { path } = await this.hass.callWS<{ path: string }>({
            type: `${DOMAIN}/sendspin/listen_url`,
            config_entry_id: this.entryId,
          });
          return path;
        },
        player: async () => {
          const { SendspinPlayer } = await loadSendspin();
          const clientName = this.t("card.listener_name", { user: this.hass.user?.name ?? "" });
          return (socket, playerId) =>
            new SendspinPlayer({
              playerId,
              clientName,
              webSocket: socket as WebSocket,
              codecs: ["pcm"], // a LAN stream: no decoder to load
              // sendspin-js re-reads the AudioContext's output latency at every stream start, and
              // Chromium's figure moves by tens of ms between reads while the real one does not:
              // each seek or resume then started somewhere else. fixDelay() reads it once instead.
              useOutputLatencyCompensation: false,
              storage: null, // nothing of this listen is kept in the browser
            });
        },
        connected: async (player) => {
          const { getDefaultSyncDelay } = await loadSendspin();
          await fixDelay(player, getDefaultSyncDelay());
        },
        openSocket: (path) => {
          const url = new URL(path, window.location.href);
          url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
          return new WebSocket(url.href);
        },
        join: (clientId) =>
          this.hass.callWS({ type: `${DOMAIN}/sendspin/join`, room_id: this.roomId, client_id: clientId }),
      },
      () => {
        if (this.session !== session) return;
        this.session = null;
        this.player = null;
        this.status = "off";
      },
    ));
    this.status = "connecting";
    this.problem = "";
    try {
      this.player = await session.open(Math.round(this.volume * 100));
      this.status = "on";
    } catch (err) {
      session.close();
      if (!(err instanceof SessionClosed)) this.problem = await errorText(this.hass, this.t, err);
    }
  }

  /** Close the connection: the server removes the member. */
  leave(): void {
    this.session?.close();
  }

  private setVolume(volume: number): void {
    this.volume = volume;
    this.player?.setVolume(Math.round(volume * 100));
  }

  render() {
    const t = this.t;
    const on = this.status !== "off";
    return html`
      <button aria-pressed=${on ? "true" : "false"} ?disabled=${this.status === "connecting"}
        @click=${() => (on ? this.leave() : void this.listen())}>
        ${icon(mdiHeadphones)}
        <span>${this.status === "connecting" ? t("card.listen_connecting") : on ? t("card.listen_stop") : t("card.listen")}</span>
      </button>
      ${this.status === "on"
        ? html`<omb-volume .volume=${this.volume} .max=${1} label=${t("card.listen_volume")}
            @volume-change=${(e: CustomEvent<number>) => this.setVolume(e.detail)}></omb-volume>`
        : nothing}
      ${this.problem ? html`<div class="error" role="alert">${this.problem}</div>` : nothing}
    `;
  }
}
