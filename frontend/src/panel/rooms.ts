// Rooms: each sync room with its members and whether they are connected (live room events).
import { LitElement, html, nothing } from "lit";
import { property } from "lit/decorators.js";
import { element } from "../shared/element";
import type { StringKey } from "../i18n";
import type { PanelContext } from "./context";
import { panelStyles } from "./styles";

@element("omb-rooms")
export class OmbRooms extends LitElement {
  @property({ attribute: false }) ctx!: PanelContext;

  static styles = panelStyles;

  private kind(kind: string): string {
    const key = `rooms.kind.${kind}` as StringKey;
    const text = this.ctx.t(key);
    return text === key ? kind : text;
  }

  render() {
    const { t, live } = this.ctx;
    if (live.rooms.length === 0) return html`<div class="card"><p class="muted">${t("rooms.none")}</p></div>`;
    return live.rooms.map((room) => {
      const state = room.player?.state ?? "idle";
      return html`<div class="card" data-room=${room.room_id}>
        <h2>${room.name} <span class="muted">· ${t(`rooms.state.${state}`)}</span></h2>
        ${room.player?.track ? html`<p>${room.player.track.title ?? ""}</p>` : nothing}
        <ul class="list" aria-label=${t("rooms.members")}>
          ${room.members.map(
            (member) => html`<li><span class="grow">${member.name} <span class="muted">(${this.kind(member.kind)})</span></span>
              <span class=${member.available ? "ok" : "error"}>${member.available ? t("rooms.available") : t("rooms.unavailable")}</span></li>`,
          )}
        </ul></div>`;
    });
  }
}
