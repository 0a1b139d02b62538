// Library: every playlist with its cover and count; create one; rescan; open one.
import { LitElement, html, nothing } from "lit";
import { property, state } from "lit/decorators.js";
import { element } from "../shared/element";
import { attempt, type PanelContext } from "./context";
import { coverOf } from "./picker";
import { panelStyles } from "./styles";
import "./playlist";

@element("omb-library")
export class OmbLibrary extends LitElement {
  @property({ attribute: false }) ctx!: PanelContext;
  @state() private open: string | null = null;
  @state() private error = "";
  @state() private scanning = false;

  static styles = panelStyles;

  private async create(event: Event): Promise<void> {
    event.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>("#new-name");
    const name = input?.value ?? "";
    this.error = await attempt(this.ctx, () => this.ctx.api.call("playlists/create", { name }));
    if (!this.error && input) input.value = "";
  }

  private async rescan(): Promise<void> {
    this.scanning = true;
    this.error = await attempt(this.ctx, () => this.ctx.api.call("rescan"));
    this.scanning = false;
  }

  render() {
    const { t, live, covers } = this.ctx;
    if (this.open && live.playlists.some((playlist) => playlist.id === this.open)) {
      return html`<omb-playlist .ctx=${this.ctx} .playlistId=${this.open} @close=${() => (this.open = null)}></omb-playlist>`;
    }
    return html`
      <div class="card">
        <form class="row" @submit=${this.create}>
          <input id="new-name" type="text" placeholder=${t("library.new_name")} aria-label=${t("library.new_name")} maxlength="100" />
          <button class="primary" type="submit">${t("library.create")}</button>
          <span style="flex:1"></span>
          <button type="button" @click=${this.rescan} ?disabled=${this.scanning}>
            ${this.scanning ? t("library.rescanning") : t("library.rescan")}</button>
        </form>
        ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
      </div>
      <div class="grid">
        ${live.playlists.map(
          (playlist) => html`<button class="tile" data-playlist=${playlist.id} aria-label=${t("library.open", { name: playlist.name })}
            @click=${() => (this.open = playlist.id)}>${coverOf(covers, playlist.id)}
            <span class="name">${playlist.name}</span>
            <span class="count">${t("library.tracks", { count: playlist.track_count })}</span></button>`,
        )}
      </div>
    `;
  }
}
