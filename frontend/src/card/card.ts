// The children's card: big covers (one tap plays), what plays now, big buttons, the volume.
import { LitElement, html, nothing, type PropertyValues } from "lit";
import { property, state } from "lit/decorators.js";
import { element } from "../shared/element";
import { entryOfEntity } from "../api/box";
import { loadCovers } from "../api/covers";
import type { HomeAssistant } from "../api/hass";
import type { LiveState } from "../api/live";
import type { Envelope, PlayerState, PlaylistSummary } from "../api/types";
import { translator } from "../i18n";
import { errorText } from "../shared/errors";
import { icon, mdiMusic, mdiPause, mdiPlay, mdiSkipNext, mdiSkipPrevious } from "../shared/icons";
import { LiveController } from "../shared/live-controller";
import { anchorOfPlayer, type Anchor } from "../shared/progress";
import { checkConfig, shownPlaylists, type CardConfig } from "./config";
import { cardStyles } from "./styles";
import "./listen";
import "./progress-bar";
import "./volume";

@element("open-music-box-card")
export class OpenMusicBoxCard extends LitElement {
  @property({ attribute: false }) hass!: HomeAssistant;
  @state() private config: CardConfig = { type: "custom:open-music-box-card" };
  @state() private covers = new Map<string, string>();
  @state() private anchor: Anchor | null = null;
  @state() private problem = "";
  @state() private entryId = "";
  private resolved = "";
  private live = new LiveController(this, () => this.hass, (event, live) => this.onEvent(event, live));

  static styles = cardStyles;

  static getConfigElement(): HTMLElement {
    return document.createElement("open-music-box-card-editor");
  }

  static getStubConfig(hass: HomeAssistant): CardConfig {
    const entity = Object.keys(hass.states).find((id) => id.startsWith("media_player.") && id.includes("music_box"));
    return { type: "custom:open-music-box-card", ...(entity ? { entity } : {}) };
  }

  setConfig(config: CardConfig): void {
    this.config = checkConfig(config);
  }

  getCardSize(): number {
    return 8;
  }

  private get t() {
    return translator(this.hass?.language);
  }

  private get roomId(): string | undefined {
    const id = this.config.entity ? this.hass?.states[this.config.entity]?.attributes.room_id : undefined;
    return typeof id === "string" ? id : undefined;
  }

  private player(live: LiveState): PlayerState | null {
    const roomId = this.roomId;
    if (roomId) return live.rooms.find((room) => room.room_id === roomId)?.player ?? null;
    return live.player;
  }

  protected shouldUpdate(changed: PropertyValues<this>): boolean {
    // Home Assistant sets `hass` at every state change of any entity: only ours matters.
    if (changed.size !== 1 || !changed.has("hass")) return true;
    const old = changed.get("hass") as HomeAssistant | undefined;
    const entity = this.config.entity ?? "";
    return !old || old.language !== this.hass.language || old.states[entity] !== this.hass.states[entity];
  }

  protected willUpdate(): void {
    const entity = this.config.entity ?? "";
    if (this.hass && entity !== this.resolved) {
      this.resolved = entity;
      this.problem = "";
      void this.resolve(entity);
    }
  }

  private async resolve(entity: string): Promise<void> {
    if (!entity) {
      this.entryId = "";
      this.live.setEntry(null);
      return;
    }
    try {
      const entryId = await entryOfEntity(this.hass, entity);
      this.entryId = entryId ?? "";
      this.live.setEntry(entryId);
      this.covers = await loadCovers(this.hass, entity);
    } catch (err) {
      this.problem = this.t("card.not_found", { entity }) + " " + (await errorText(this.hass, this.t, err));
    }
  }

  private onEvent(event: Envelope, live: LiveState): void {
    const now = performance.now();
    if (event.type === "position" && !this.roomId && live.position) {
      const p = live.position;
      this.anchor = { positionMs: p.position_ms, durationMs: p.duration_ms, playing: p.playing, at: now };
    } else if (["snapshot", "player", "room"].includes(event.type)) {
      const player = this.player(live);
      this.anchor = player ? anchorOfPlayer(player, now, Date.now()) : null;
    }
    if (event.type === "playlists" && this.config.entity) {
      void loadCovers(this.hass, this.config.entity).then((covers) => (this.covers = covers));
    }
  }

  private async service(name: string, data: Record<string, unknown> = {}): Promise<void> {
    try {
      this.problem = "";
      await this.hass.callService("media_player", name, { entity_id: this.config.entity, ...data });
    } catch (err) {
      this.problem = await errorText(this.hass, this.t, err);
    }
  }

  private play(playlist: PlaylistSummary): void {
    void this.service("play_media", { media_content_id: `playlist:${playlist.id}`, media_content_type: "playlist" });
  }

  private renderCover(url: string | undefined, alt = "") {
    return url
      ? html`<img src=${url} alt=${alt} loading="lazy" />`
      : html`<div class="placeholder" aria-hidden="true">${icon(mdiMusic)}</div>`;
  }

  private renderNow(player: PlayerState | null) {
    const t = this.t;
    const track = player?.track ?? null;
    const picture = this.config.entity ? this.hass.states[this.config.entity]?.attributes.entity_picture : undefined;
    const url = typeof picture === "string" && track ? picture : player?.playlist_id ? this.covers.get(player.playlist_id) : undefined;
    const playing = player?.state === "playing";
    return html`
      <div class="now">
        ${this.renderCover(track ? url : undefined)}
        <div class="info">
          <div class="title">${track?.title ?? t("card.nothing_playing")}</div>
          <div class="artist">${track?.artist ?? ""}</div>
          <omb-progress-bar .anchor=${track ? this.anchor : null} label=${t("card.progress")}></omb-progress-bar>
        </div>
      </div>
      <div class="controls">
        <button aria-label=${t("card.previous")} @click=${() => this.service("media_previous_track")}>${icon(mdiSkipPrevious)}</button>
        <button class="main" aria-label=${playing ? t("card.pause") : t("card.play")}
          @click=${() => this.service("media_play_pause")}>${icon(playing ? mdiPause : mdiPlay)}</button>
        <button aria-label=${t("card.next")} @click=${() => this.service("media_next_track")}>${icon(mdiSkipNext)}</button>
      </div>
      ${player
        ? html`<omb-volume .volume=${player.volume} .max=${player.max_volume} label=${t("card.volume")}
            maxLabel=${t("card.volume_max")} @volume-change=${(e: CustomEvent<number>) => this.service("volume_set", { volume_level: e.detail })}></omb-volume>`
        : nothing}
      ${this.roomId && this.entryId
        ? html`<omb-listen .hass=${this.hass} .entryId=${this.entryId} .roomId=${this.roomId}></omb-listen>`
        : nothing}
    `;
  }

  render() {
    const t = this.t;
    const live = this.live.state;
    const player = this.player(live);
    const playlists = shownPlaylists(live.playlists, this.config.playlists);
    const columns = this.config.columns ? `repeat(${this.config.columns}, minmax(0, 1fr))` : "";
    return html`
      <ha-card>
        ${this.config.title ? html`<h1>${this.config.title}</h1>` : nothing}
        ${!this.config.entity ? html`<div class="message">${t("card.no_box")}</div>` : this.renderNow(player)}
        ${this.problem ? html`<div class="message error" role="alert">${this.problem}</div>` : nothing}
        <div class="grid" style=${columns ? `--omb-columns: ${columns}` : ""}>
          ${playlists.map(
            (playlist) => html`<button class="cover ${player?.playlist_id === playlist.id ? "current" : ""}"
              aria-label=${t("card.play_playlist", { name: playlist.name })} @click=${() => this.play(playlist)}>
              ${this.renderCover(this.covers.get(playlist.id))}<span>${playlist.name}</span></button>`,
          )}
        </div>
        ${this.config.entity && live.player && playlists.length === 0 ? html`<div class="message">${t("card.no_playlists")}</div>` : nothing}
      </ha-card>
    `;
  }
}
