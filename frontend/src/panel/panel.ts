// The parents' panel (admin only): Library, Tags, Rooms, Children, for one box at a time.
import { LitElement, css, html, nothing } from "lit";
import { property, state } from "lit/decorators.js";
import { element } from "../shared/element";
import { listBoxes, type BoxEntry } from "../api/box";
import { boxEntities, loadCovers } from "../api/covers";
import type { HomeAssistant } from "../api/hass";
import type { Envelope } from "../api/types";
import { translator, type StringKey } from "../i18n";
import { errorText } from "../shared/errors";
import { LiveController } from "../shared/live-controller";
import type { PanelContext } from "./context";
import { panelStyles } from "./styles";
import "./children";
import "./library";
import "./rooms";
import "./tags";

const TABS = ["library", "tags", "rooms", "children"] as const;
type Tab = (typeof TABS)[number];

@element("open-music-box-panel")
export class OpenMusicBoxPanel extends LitElement {
  @property({ attribute: false }) hass!: HomeAssistant;
  @property({ type: Boolean }) narrow = false;
  @state() private boxes: BoxEntry[] | null = null;
  @state() private entryId = "";
  @state() private tab: Tab = "library";
  @state() private covers = new Map<string, string>();
  @state() private entities: { player: string | null; maxVolume: string | null } = { player: null, maxVolume: null };
  @state() private error = "";
  private live = new LiveController(this, () => this.hass, (event) => this.onEvent(event));

  static styles = [
    panelStyles,
    css`
      :host { min-height: 100vh; background: var(--primary-background-color); }
      header { display: flex; align-items: center; gap: 12px; padding: 0 16px; height: 56px;
        background: var(--app-header-background-color, var(--primary-color)); color: var(--app-header-text-color, #fff); }
      header h1 { font-size: 20px; font-weight: 400; margin: 0; flex: 1; }
      header select { font: inherit; padding: 4px; border-radius: 6px; }
      nav { display: flex; gap: 4px; padding: 8px 16px 0; border-bottom: 1px solid var(--divider-color); overflow-x: auto; }
      nav button { border: none; border-radius: 8px 8px 0 0; background: none; padding: 12px 16px; }
      nav button[aria-selected="true"] { border-bottom: 3px solid var(--primary-color); font-weight: 500; }
      main { padding: 16px; max-width: 1200px; margin: 0 auto; }
    `,
  ];

  private get t() {
    return translator(this.hass?.language);
  }

  private loading = false;

  protected willUpdate(): void {
    // Home Assistant may set `hass` after attaching the panel: load the boxes once it is there.
    if (this.hass && !this.boxes && !this.loading) {
      this.loading = true;
      void this.loadBoxes();
    }
  }

  private async loadBoxes(): Promise<void> {
    try {
      this.boxes = await listBoxes(this.hass);
      if (!this.boxes.some((box) => box.entry_id === this.entryId)) this.select(this.boxes[0]?.entry_id ?? "");
    } catch (err) {
      this.error = await errorText(this.hass, this.t, err);
    }
  }

  private select(entryId: string): void {
    this.entryId = entryId;
    this.covers = new Map();
    this.live.setEntry(entryId || null);
    if (entryId) void this.loadEntities(entryId);
  }

  private async loadEntities(entryId: string): Promise<void> {
    this.entities = await boxEntities(this.hass, entryId);
    await this.refreshCovers();
  }

  private async refreshCovers(): Promise<void> {
    if (this.entities.player) this.covers = await loadCovers(this.hass, this.entities.player).catch(() => this.covers);
  }

  private onEvent(event: Envelope): void {
    if (event.type === "playlists" || event.type === "library") void this.refreshCovers();
  }

  private renderView(ctx: PanelContext) {
    switch (this.tab) {
      case "library":
        return html`<omb-library .ctx=${ctx}></omb-library>`;
      case "tags":
        return html`<omb-tags .ctx=${ctx}></omb-tags>`;
      case "rooms":
        return html`<omb-rooms .ctx=${ctx}></omb-rooms>`;
      case "children":
        return html`<omb-children .ctx=${ctx}></omb-children>`;
    }
  }

  render() {
    const t = this.t;
    const api = this.live.api;
    const ctx: PanelContext | null = api
      ? { hass: this.hass, api, live: this.live.state, covers: this.covers, t, ...this.entities }
      : null;
    return html`
      <header>
        ${this.narrow ? html`<ha-menu-button .hass=${this.hass} .narrow=${this.narrow}></ha-menu-button>` : nothing}
        <h1>${t("panel.title")}</h1>
        ${this.boxes && this.boxes.length > 1
          ? html`<select aria-label=${t("panel.box")} @change=${(e: Event) => this.select((e.target as HTMLSelectElement).value)}>
              ${this.boxes.map((box) => html`<option value=${box.entry_id} ?selected=${box.entry_id === this.entryId}>${box.title}</option>`)}
            </select>`
          : nothing}
      </header>
      <nav role="tablist">
        ${TABS.map(
          (tab) => html`<button role="tab" aria-selected=${this.tab === tab ? "true" : "false"} @click=${() => (this.tab = tab)}>
            ${t(`panel.tab.${tab}` as StringKey)}</button>`,
        )}
      </nav>
      <main>
        ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
        ${this.boxes && this.boxes.length === 0 ? html`<div class="card">${t("panel.no_box")}</div>` : nothing}
        ${ctx ? this.renderView(ctx) : nothing}
      </main>
    `;
  }
}
