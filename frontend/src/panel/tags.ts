// Tags: link one by scanning it (the session followed live), the linked tags, the unknown ones.
import { LitElement, html, nothing } from "lit";
import { property, state } from "lit/decorators.js";
import { element } from "../shared/element";
import type { AssociationSession } from "../api/types";
import { attempt, type PanelContext } from "./context";
import { panelStyles } from "./styles";
import "./picker";

interface HaTag {
  id: string;
  name?: string | null;
}

@element("omb-tags")
export class OmbTags extends LitElement {
  @property({ attribute: false }) ctx!: PanelContext;
  @state() private chosen = "";
  @state() private error = "";
  @state() private known: HaTag[] = [];
  @state() private linking: string | null = null; // an unknown tag being linked by id
  @state() private started: string | null = null; // the session this panel started

  static styles = panelStyles;

  connectedCallback(): void {
    super.connectedCallback();
    void this.loadKnown();
  }

  private async loadKnown(): Promise<void> {
    try {
      this.known = await this.ctx.hass.callWS<HaTag[]>({ type: "tag/list" });
    } catch {
      this.known = []; // the tag integration is not loaded
    }
  }

  private name(id: string | null): string {
    return this.ctx.live.playlists.find((playlist) => playlist.id === id)?.name ?? id ?? "";
  }

  private async scan(): Promise<void> {
    this.error = await attempt(this.ctx, async () => {
      const session = await this.ctx.api.call<AssociationSession>("tags/associate", { playlist_id: this.chosen });
      this.started = session.session_id;
    });
  }

  private async command(name: string, fields: Record<string, unknown> = {}): Promise<void> {
    this.error = await attempt(this.ctx, () => this.ctx.api.call(name, fields));
  }

  private async linkUnknown(playlistId: string): Promise<void> {
    const tagId = this.linking;
    this.linking = null;
    await this.command("tags/link", { tag_id: tagId, playlist_id: playlistId });
  }

  private renderSession(session: AssociationSession | null) {
    const t = this.ctx.t;
    if (!session || session.session_id !== this.started) return nothing;
    const message = {
      waiting: t("tags.waiting"),
      linked: t("tags.linked", { name: this.name(session.playlist_id) }),
      duplicate: t("tags.duplicate", { name: this.name(session.current_playlist_id) }),
      timeout: t("tags.timeout"),
      cancelled: t("tags.cancelled"),
    }[session.state];
    const open = session.state === "waiting" || session.state === "duplicate";
    return html`<div class="session ${session.state === "linked" ? "ok" : ""}" role="status" aria-live="polite" data-state=${session.state}>
      <p>${message}</p>
      <div class="row">
        ${session.state === "duplicate"
          ? html`<button class="primary" @click=${() => this.command("tags/override")}>${t("tags.relink", { name: this.name(session.playlist_id) })}</button>`
          : nothing}
        ${open ? html`<button @click=${() => this.command("tags/cancel")}>${t("tags.cancel")}</button>` : nothing}
      </div></div>`;
  }

  render() {
    const { t, live, covers } = this.ctx;
    const linked = new Set(live.tags.map((tag) => tag.tag_id));
    const unknown = this.known.filter((tag) => !linked.has(tag.id));
    return html`
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
      <div class="card">
        <h2>${this.linking ? t("tags.choose_for", { tag: this.linking }) : t("tags.link_title")}</h2>
        ${this.linking ? nothing : html`<p>${t("tags.pick")}</p>`}
        <omb-playlist-picker .playlists=${live.playlists} .covers=${covers} .selected=${this.chosen}
          @picked=${(e: CustomEvent<string>) => (this.linking ? this.linkUnknown(e.detail) : (this.chosen = e.detail))}></omb-playlist-picker>
        <div class="row" style="margin-top: 12px">
          ${this.linking
            ? html`<button @click=${() => (this.linking = null)}>${t("tags.cancel")}</button>`
            : html`<button class="primary" ?disabled=${!this.chosen} @click=${this.scan}>${t("tags.scan_now")}</button>`}
        </div>
        ${this.renderSession(live.session)}
      </div>
      <div class="card">
        <h2>${t("tags.linked_tags")}</h2>
        ${live.tags.length === 0 ? html`<p class="muted">${t("tags.none")}</p>` : nothing}
        <ul class="list">
          ${live.tags.map(
            (tag) => html`<li><span class="grow"><code>${tag.tag_id}</code> → ${tag.playlist_name ?? this.name(tag.playlist_id)}
              ${tag.stale ? html`<span class="muted">${t("tags.stale")}</span>` : nothing}</span>
              <button class="danger" @click=${() => this.command("tags/unlink", { tag_id: tag.tag_id })}>${t("tags.unlink")}</button></li>`,
          )}
        </ul>
      </div>
      ${unknown.length
        ? html`<div class="card"><h2>${t("tags.unknown")}</h2><ul class="list">
            ${unknown.map(
              (tag) => html`<li><span class="grow"><code>${tag.id}</code> ${tag.name ? html`<span class="muted">${tag.name}</span>` : nothing}</span>
                <button @click=${() => { this.linking = tag.id; window.scrollTo(0, 0); }}>${t("tags.link")}</button></li>`,
            )}</ul></div>`
        : nothing}
    `;
  }
}
