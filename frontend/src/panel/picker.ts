// Pick a playlist by its cover.
import { LitElement, html } from "lit";
import { property } from "lit/decorators.js";
import { element } from "../shared/element";
import type { PlaylistSummary } from "../api/types";
import { icon, mdiMusic } from "../shared/icons";
import { panelStyles } from "./styles";

export function coverOf(covers: Map<string, string>, id: string) {
  const url = covers.get(id);
  return url ? html`<img src=${url} alt="" loading="lazy" />` : html`<div class="placeholder">${icon(mdiMusic)}</div>`;
}

@element("omb-playlist-picker")
export class OmbPlaylistPicker extends LitElement {
  @property({ attribute: false }) playlists: PlaylistSummary[] = [];
  @property({ attribute: false }) covers = new Map<string, string>();
  @property() selected = "";

  static styles = panelStyles;

  private pick(id: string): void {
    this.selected = id;
    this.dispatchEvent(new CustomEvent("picked", { detail: id }));
  }

  render() {
    return html`<div class="grid" role="listbox">
      ${this.playlists.map(
        (playlist) => html`<button class="tile ${playlist.id === this.selected ? "selected" : ""}" role="option"
          aria-selected=${playlist.id === this.selected ? "true" : "false"} aria-label=${playlist.name}
          @click=${() => this.pick(playlist.id)}>${coverOf(this.covers, playlist.id)}<span class="name">${playlist.name}</span></button>`,
      )}
    </div>`;
  }
}
