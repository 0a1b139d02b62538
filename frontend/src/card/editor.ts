// The card's visual editor: the box or room, which playlists, how many columns, a title.
import { LitElement, css, html } from "lit";
import { property, state } from "lit/decorators.js";
import { element } from "../shared/element";
import { BoxApi, entryOfEntity } from "../api/box";
import type { HomeAssistant } from "../api/hass";
import type { PlaylistSummary } from "../api/types";
import { translator } from "../i18n";
import type { CardConfig } from "./config";

@element("open-music-box-card-editor")
export class OpenMusicBoxCardEditor extends LitElement {
  @property({ attribute: false }) hass!: HomeAssistant;
  @state() private config: CardConfig = { type: "custom:open-music-box-card" };
  @state() private playlists: PlaylistSummary[] = [];
  private loadedFor = "";

  static styles = css`
    :host { display: block; color: var(--primary-text-color); }
    label { display: block; margin: 12px 0 4px; font-weight: 500; }
    select, input[type="number"], input[type="text"] { width: 100%; box-sizing: border-box; padding: 8px; font: inherit;
      color: var(--primary-text-color); background: var(--card-background-color, #fff);
      border: 1px solid var(--divider-color, #ccc); border-radius: 6px; }
    .choices label { font-weight: normal; display: flex; gap: 8px; align-items: center; margin: 4px 0; }
  `;

  setConfig(config: CardConfig): void {
    this.config = config;
  }

  protected willUpdate(): void {
    const entity = this.config.entity ?? "";
    if (this.hass && entity && entity !== this.loadedFor) {
      this.loadedFor = entity;
      void this.loadPlaylists(entity);
    }
  }

  private async loadPlaylists(entity: string): Promise<void> {
    try {
      const entryId = await entryOfEntity(this.hass, entity);
      if (!entryId) return;
      const result = await new BoxApi(() => this.hass, entryId).call<{ playlists: PlaylistSummary[] }>("playlists/list");
      this.playlists = result.playlists;
    } catch {
      this.playlists = [];
    }
  }

  private change(patch: Partial<CardConfig>): void {
    // Empty values are left out, so the YAML stays short.
    const config = Object.fromEntries(
      Object.entries({ ...this.config, ...patch }).filter(
        ([, value]) => value !== "" && value !== 0 && !(Array.isArray(value) && value.length === 0),
      ),
    ) as unknown as CardConfig;
    this.config = config;
    this.dispatchEvent(new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }));
  }

  private togglePlaylist(id: string, checked: boolean): void {
    const current = this.config.playlists ?? [];
    this.change({ playlists: checked ? [...current.filter((known) => known !== id), id] : current.filter((known) => known !== id) });
  }

  render() {
    const t = translator(this.hass?.language);
    const players = Object.keys(this.hass?.states ?? {})
      .filter((id) => id.startsWith("media_player."))
      .sort();
    const chosen = new Set(this.config.playlists ?? []);
    return html`
      <label for="entity">${t("editor.entity")}</label>
      <select id="entity" @change=${(e: Event) => this.change({ entity: (e.target as HTMLSelectElement).value, playlists: [] })}>
        <option value="" ?selected=${!this.config.entity}>–</option>
        ${players.map(
          (id) => html`<option value=${id} ?selected=${id === this.config.entity}>
            ${String(this.hass.states[id].attributes.friendly_name ?? id)} (${id})</option>`,
        )}
      </select>
      <label for="title">${t("editor.title")}</label>
      <input id="title" type="text" .value=${this.config.title ?? ""}
        @change=${(e: Event) => this.change({ title: (e.target as HTMLInputElement).value })} />
      <label for="columns">${t("editor.columns")}</label>
      <input id="columns" type="number" min="0" max="12" .value=${String(this.config.columns ?? 0)}
        @change=${(e: Event) => this.change({ columns: Math.max(0, Math.min(12, Math.round(Number((e.target as HTMLInputElement).value) || 0))) })} />
      <label>${t("editor.playlists")}</label>
      <div class="choices">
        ${this.playlists.map(
          (playlist) => html`<label><input type="checkbox" .checked=${chosen.has(playlist.id)}
            @change=${(e: Event) => this.togglePlaylist(playlist.id, (e.target as HTMLInputElement).checked)} />${playlist.name}</label>`,
        )}
      </div>
    `;
  }
}
