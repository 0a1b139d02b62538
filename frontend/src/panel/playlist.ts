// One playlist: its tracks with durations (a virtualized list); rename, delete, album or
// audiobook mode; reorder by drag and drop; add tracks from the library, remove one, move one to
// another playlist; upload files into it.
import { LitElement, css, html, nothing, type PropertyValues } from "lit";
import { property, state } from "lit/decorators.js";
import { live } from "lit/directives/live.js";
import { element } from "../shared/element";
import type { PlaylistDetail, Track } from "../api/types";
import { formatDuration, moved } from "../shared/format";
import { icon, mdiDrag } from "../shared/icons";
import { attempt, type PanelContext } from "./context";
import { uploadToPlaylist } from "./playlist-upload";
import { panelStyles } from "./styles";
import "./track-picker";
import "./virtual-list";

const ROW_HEIGHT = 48;

@element("omb-playlist")
export class OmbPlaylist extends LitElement {
  @property({ attribute: false }) ctx!: PanelContext;
  @property() playlistId = "";
  @state() private detail: PlaylistDetail | null = null;
  @state() private renaming = false;
  @state() private picking = false;
  @state() private moving: { index: number; trackId: string; title: string } | null = null;
  @state() private pendingMode: "album" | "audiobook" | null = null;
  @state() private error = "";
  @state() private status = "";
  @state() private dragFrom = -1;
  @state() private dragOver = -1;
  private byId = new Map<string, Track>();
  private loadedKey = "";

  static styles = [
    panelStyles,
    css`
      label.button { font: inherit; cursor: pointer; padding: 8px 14px; border-radius: 8px; position: relative;
        border: 1px solid var(--divider-color, #ccc); background: var(--secondary-background-color, #f2f2f2); }
      label.button:focus-within { outline: 2px solid var(--primary-color, #03a9f4); }
      label.button input { position: absolute; opacity: 0; width: 1px; height: 1px; }
      select { font: inherit; padding: 6px; border-radius: 8px; }
    `,
  ];

  protected willUpdate(_changed: PropertyValues): void {
    const summary = this.ctx.live.playlists.find((playlist) => playlist.id === this.playlistId);
    // Reload when the playlist's tracks (a `playlist` event) or its summary changed.
    const key = `${this.playlistId}/${this.ctx.live.playlistSeq[this.playlistId] ?? 0}/${JSON.stringify(summary)}`;
    if (key !== this.loadedKey) {
      this.loadedKey = key;
      void this.load();
    }
  }

  private async load(): Promise<void> {
    this.error = await attempt(this.ctx, async () => {
      const detail = await this.ctx.api.call<PlaylistDetail>("playlists/get", { playlist_id: this.playlistId });
      this.byId = new Map(detail.tracks.map((track) => [track.track_id, track]));
      this.detail = detail;
    });
  }

  private async rename(event: Event): Promise<void> {
    event.preventDefault();
    const name = this.renderRoot.querySelector<HTMLInputElement>("#rename")?.value ?? "";
    this.error = await attempt(this.ctx, () => this.ctx.api.call("playlists/rename", { playlist_id: this.playlistId, name }));
    if (!this.error) this.renaming = false;
  }

  private async deletePlaylist(): Promise<void> {
    const name = this.detail?.name ?? "";
    if (!confirm(this.ctx.t("library.delete_confirm", { name }))) return;
    this.error = await attempt(this.ctx, () => this.ctx.api.call("playlists/delete", { playlist_id: this.playlistId }));
    if (!this.error) this.close();
  }

  private async setMode(event: Event): Promise<void> {
    const mode = (event.target as HTMLInputElement).checked ? "audiobook" : "album";
    // Shown as asked while the box answers; then as the box says (its `playlists` event).
    this.pendingMode = mode;
    this.error = await attempt(this.ctx, () => this.ctx.api.call("playlists/set_mode", { playlist_id: this.playlistId, mode }));
    this.pendingMode = null;
  }

  private get mode(): string {
    const summary = this.ctx.live.playlists.find((playlist) => playlist.id === this.playlistId);
    return this.pendingMode ?? summary?.mode ?? this.detail?.mode ?? "album";
  }

  private close(): void {
    this.dispatchEvent(new CustomEvent("close"));
  }

  private async drop(to: number): Promise<void> {
    const from = this.dragFrom;
    this.dragFrom = this.dragOver = -1;
    await this.move(from, to);
  }

  /** Drag and drop, or the up and down buttons (keyboards and touch screens). */
  private async move(from: number, to: number): Promise<void> {
    if (!this.detail || from < 0 || from === to || to < 0 || to >= this.detail.track_ids.length) return;
    const track_ids = moved(this.detail.track_ids, from, to);
    this.error = await attempt(this.ctx, () => this.ctx.api.call("playlists/reorder", { playlist_id: this.playlistId, track_ids }));
  }

  private async removeTrack(trackId: string): Promise<void> {
    this.error = await attempt(this.ctx, () =>
      this.ctx.api.call("playlists/remove_tracks", { playlist_id: this.playlistId, track_ids: [trackId] }),
    );
  }

  private async moveTo(event: Event): Promise<void> {
    event.preventDefault();
    const target = this.renderRoot.querySelector<HTMLSelectElement>("#move-target")?.value ?? "";
    const moving = this.moving;
    if (!moving || !target) return;
    this.error = await attempt(this.ctx, () =>
      this.ctx.api.call("playlists/move_track", {
        source_playlist_id: this.playlistId,
        target_playlist_id: target,
        track_id: moving.trackId,
      }),
    );
    if (!this.error) this.moving = null;
  }

  private async upload(event: Event): Promise<void> {
    const input = event.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = "";
    if (!this.detail || files.length === 0) return;
    const detail = this.detail;
    const t = this.ctx.t;
    this.status = "";
    let errors: string[] = [];
    this.error = await attempt(this.ctx, async () => {
      const outcome = await uploadToPlaylist(this.ctx, detail, files, (done, total) => {
        this.status = done < total ? t("library.uploading", { done: done + 1, total }) : "";
      });
      errors = outcome.errors;
      this.status = outcome.done;
    });
    if (!this.error) this.error = errors.join(" ");
  }

  private renderRow(detail: PlaylistDetail, index: number) {
    const id = detail.track_ids[index];
    const track = this.byId.get(id);
    const title = track?.title ?? id;
    const editable = !detail.read_only;
    const count = detail.track_ids.length;
    const t = this.ctx.t;
    return html`<li draggable=${editable ? "true" : "false"} data-index=${index}
      class="${index === this.dragFrom ? "dragging" : ""} ${index === this.dragOver ? "over" : ""}"
      @dragstart=${(e: DragEvent) => { this.dragFrom = index; e.dataTransfer?.setData("text/plain", String(index)); }}
      @dragover=${(e: DragEvent) => { if (editable) { e.preventDefault(); this.dragOver = index; } }}
      @dragend=${() => (this.dragFrom = this.dragOver = -1)}
      @drop=${(e: DragEvent) => { e.preventDefault(); void this.drop(index); }}>
      ${editable ? html`<span class="handle">${icon(mdiDrag)}</span>` : nothing}
      <span class="grow">${title}${track?.artist ? html` <span class="muted">· ${track.artist}</span>` : nothing}</span>
      <span class="muted">${formatDuration(track?.duration_ms)}</span>
      ${editable
        ? html`<button class="move" aria-label=${t("library.move_up", { title })} ?disabled=${index === 0}
              @click=${() => this.move(index, index - 1)}>↑</button>
            <button class="move" aria-label=${t("library.move_down", { title })} ?disabled=${index === count - 1}
              @click=${() => this.move(index, index + 1)}>↓</button>
            <button class="move" aria-label=${t("library.move", { title })}
              @click=${() => (this.moving = { index, trackId: id, title })}>⇄</button>
            <button class="move danger" aria-label=${t("library.remove", { title })} @click=${() => this.removeTrack(id)}>✕</button>`
        : nothing}</li>`;
  }

  private renderMoving() {
    const moving = this.moving;
    if (!moving) return nothing;
    const t = this.ctx.t;
    const targets = this.ctx.live.playlists.filter((playlist) => !playlist.read_only && playlist.id !== this.playlistId);
    return html`<form class="row card" @submit=${this.moveTo}>
      <label for="move-target">${t("library.move_to", { title: moving.title })}</label>
      ${targets.length
        ? html`<select id="move-target">${targets.map((p) => html`<option value=${p.id}>${p.name}</option>`)}</select>
            <button class="primary" type="submit">${t("library.move_confirm")}</button>`
        : html`<span class="muted">${t("library.no_target")}</span>`}
      <button type="button" @click=${() => (this.moving = null)}>${t("library.cancel")}</button>
    </form>`;
  }

  private renderActions(detail: PlaylistDetail) {
    const t = this.ctx.t;
    const uploadable = detail.kind === "folder" || detail.kind === "user";
    return html`<div class="row">
      <label class="row"><input id="audiobook" type="checkbox" .checked=${live(this.mode === "audiobook")}
        @change=${this.setMode} />${t("library.audiobook")}</label>
      <span style="flex:1"></span>
      ${detail.read_only ? nothing : html`<button @click=${() => (this.picking = !this.picking)}>+ ${t("library.add_tracks")}</button>`}
      ${uploadable
        ? html`<label class="button"><input id="upload" type="file" multiple accept="audio/*,.m4b,.mka,.opus,.wma"
            @change=${this.upload} />${t("library.upload")}</label>`
        : nothing}
    </div>`;
  }

  render() {
    const t = this.ctx.t;
    const detail = this.detail;
    return html`<div class="card">
      <div class="row">
        <button @click=${this.close}>← ${t("library.back")}</button>
        ${detail && !detail.read_only
          ? this.renaming
            ? html`<form class="row" @submit=${this.rename}>
                <input id="rename" type="text" .value=${detail.name} aria-label=${t("library.rename")} maxlength="100" />
                <button class="primary" type="submit">${t("library.save")}</button>
                <button type="button" @click=${() => (this.renaming = false)}>${t("library.cancel")}</button></form>`
            : html`<button @click=${() => (this.renaming = true)}>${t("library.rename")}</button>
                <button class="danger" @click=${this.deletePlaylist}>${t("library.delete")}</button>`
          : nothing}
      </div>
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
      ${detail
        ? html`<h2>${detail.name}</h2>
            ${this.renderActions(detail)}
            ${this.status ? html`<div class="ok" role="status">${this.status}</div>` : nothing}
            <p class="muted">${detail.read_only ? t("library.read_only") : t("library.drag_hint")}</p>
            ${this.picking && !detail.read_only
              ? html`<omb-track-picker .ctx=${this.ctx} .playlistId=${this.playlistId} @close=${() => (this.picking = false)}></omb-track-picker>`
              : nothing}
            ${this.renderMoving()}
            ${detail.track_ids.length === 0
              ? html`<p class="muted">${t("library.empty")}</p>`
              : html`<omb-virtual-list class="tracks" .count=${detail.track_ids.length} .rowHeight=${ROW_HEIGHT} list-label=${detail.name}
                  .renderRow=${(index: number) => this.renderRow(detail, index)}></omb-virtual-list>`}`
        : nothing}
    </div>`;
  }
}
