// One playlist: its tracks with durations; rename, delete, and reorder by drag and drop.
import { LitElement, html, nothing, type PropertyValues } from "lit";
import { property, state } from "lit/decorators.js";
import { element } from "../shared/element";
import type { PlaylistDetail } from "../api/types";
import { formatDuration, moved } from "../shared/format";
import { icon, mdiDrag } from "../shared/icons";
import { attempt, type PanelContext } from "./context";
import { panelStyles } from "./styles";

@element("omb-playlist")
export class OmbPlaylist extends LitElement {
  @property({ attribute: false }) ctx!: PanelContext;
  @property() playlistId = "";
  @state() private detail: PlaylistDetail | null = null;
  @state() private renaming = false;
  @state() private error = "";
  @state() private dragFrom = -1;
  @state() private dragOver = -1;
  private loadedKey = "";

  static styles = panelStyles;

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
      this.detail = await this.ctx.api.call<PlaylistDetail>("playlists/get", { playlist_id: this.playlistId });
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

  private renderTracks(detail: PlaylistDetail) {
    const byId = new Map(detail.tracks.map((track) => [track.track_id, track]));
    const editable = !detail.read_only;
    if (detail.track_ids.length === 0) return html`<p class="muted">${this.ctx.t("library.empty")}</p>`;
    return html`<ul class="list">
      ${detail.track_ids.map((id, index) => {
        const track = byId.get(id);
        return html`<li draggable=${editable ? "true" : "false"}
          class="${index === this.dragFrom ? "dragging" : ""} ${index === this.dragOver ? "over" : ""}"
          @dragstart=${(e: DragEvent) => { this.dragFrom = index; e.dataTransfer?.setData("text/plain", String(index)); }}
          @dragover=${(e: DragEvent) => { if (editable) { e.preventDefault(); this.dragOver = index; } }}
          @dragend=${() => (this.dragFrom = this.dragOver = -1)}
          @drop=${(e: DragEvent) => { e.preventDefault(); void this.drop(index); }}>
          ${editable ? html`<span class="handle">${icon(mdiDrag)}</span>` : nothing}
          <span class="grow">${track?.title ?? id}${track?.artist ? html` <span class="muted">· ${track.artist}</span>` : nothing}</span>
          <span class="muted">${formatDuration(track?.duration_ms)}</span>
          ${editable ? this.renderMoves(index, track?.title ?? id, detail.track_ids.length) : nothing}</li>`;
      })}
    </ul>`;
  }

  private renderMoves(index: number, title: string, count: number) {
    const t = this.ctx.t;
    return html`<button class="move" aria-label=${t("library.move_up", { title })} ?disabled=${index === 0}
        @click=${() => this.move(index, index - 1)}>↑</button>
      <button class="move" aria-label=${t("library.move_down", { title })} ?disabled=${index === count - 1}
        @click=${() => this.move(index, index + 1)}>↓</button>`;
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
            <p class="muted">${detail.read_only ? t("library.read_only") : t("library.drag_hint")}</p>
            ${this.renderTracks(detail)}`
        : nothing}
    </div>`;
  }
}
