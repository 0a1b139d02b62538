// Rooms: each sync room, what it plays, and its members with their live sync status (error,
// speed trim, offset, realignments: room_status events); members added, removed and offsets set
// through the room's settings (rooms/* commands, admin only).
import { LitElement, css, html, nothing } from "lit";
import { property, state } from "lit/decorators.js";
import { element } from "../shared/element";
import type { StringKey } from "../i18n";
import type { MemberStatus, Room, RoomMember } from "../api/types";
import { attempt, type PanelContext } from "./context";
import { panelStyles } from "./styles";

const KINDS = ["local", "entity", "sendspin"] as const;
type Kind = (typeof KINDS)[number];

interface Candidate {
  id: string;
  name: string;
}
type Candidates = Record<Kind, Candidate[]>;

/** "+1.2 ms", "−0.4 ms"; null: not measured. */
export function formatError(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  const sign = ms > 0 ? "+" : ms < 0 ? "−" : "±";
  return `${sign}${Math.abs(ms).toFixed(1)} ms`;
}

/** The speed trim as a percentage: 1.0003 → "+0.030 %". */
export function formatTrim(speed: number | undefined): string {
  if (speed === undefined) return "—";
  const pct = (speed - 1) * 100;
  const sign = pct > 0 ? "+" : pct < 0 ? "−" : "±";
  return `${sign}${Math.abs(pct).toFixed(3)} %`;
}

@element("omb-rooms")
export class OmbRooms extends LitElement {
  @property({ attribute: false }) ctx!: PanelContext;
  @state() private error = "";
  @state() private adding: string | null = null; // the room whose "add" form is open
  @state() private candidates: Candidates | null = null;
  @state() private kind: Kind = "entity";
  @state() private busy = false;

  static styles = [
    panelStyles,
    css`
      table { width: 100%; border-collapse: collapse; }
      th, td { text-align: left; padding: 8px 6px; border-bottom: 1px solid var(--divider-color, rgba(127,127,127,0.2)); vertical-align: middle; }
      th { font-weight: 500; color: var(--secondary-text-color); font-size: 0.85em; }
      td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
      input.offset { width: 80px; }
      select { font: inherit; padding: 8px; border-radius: 8px; border: 1px solid var(--divider-color, #ccc);
        background: var(--card-background-color, #fff); color: var(--primary-text-color); max-width: 100%; }
      .playing { margin: 0 0 12px; }
      /* A phone: each member is a block of its own, each figure labelled. */
      @media (max-width: 700px) {
        thead { display: none; }
        tr { display: block; padding: 8px 0; border-bottom: 1px solid var(--divider-color, rgba(127,127,127,0.2)); }
        td { display: flex; justify-content: space-between; gap: 8px; border: none; padding: 4px 0; }
        td::before { content: attr(data-label); color: var(--secondary-text-color); }
        td > span { text-align: right; }
      }
    `,
  ];

  private kindName(kind: string): string {
    const key = `rooms.kind.${kind}` as StringKey;
    const text = this.ctx.t(key);
    return text === key ? kind : text;
  }

  /** A media player by its friendly name (the server names it by its entity id). */
  private memberName(member: RoomMember): string {
    const id = member.kind === "entity" ? member.member_id.slice("entity:".length) : "";
    const friendly = id ? this.ctx.hass.states[id]?.attributes.friendly_name : undefined;
    return typeof friendly === "string" && friendly ? friendly : member.name;
  }

  private async run(command: string, fields: Record<string, unknown>): Promise<boolean> {
    this.busy = true;
    this.error = await attempt(this.ctx, () => this.ctx.api.call(command, fields));
    this.busy = false;
    return !this.error;
  }

  private async openAdd(room: Room): Promise<void> {
    this.adding = room.room_id;
    this.candidates = null;
    this.error = await attempt(this.ctx, async () => {
      this.candidates = await this.ctx.api.call<Candidates>("rooms/candidates", { room_id: room.room_id });
    });
  }

  private async add(room: Room): Promise<void> {
    const select = this.renderRoot.querySelector<HTMLSelectElement>(`#candidate-${room.room_id}`);
    if (!select?.value) return;
    if (await this.run("rooms/add_member", { room_id: room.room_id, kind: this.kind, member: select.value })) {
      this.adding = null;
    }
  }

  private async setOffset(room: Room, member: RoomMember): Promise<void> {
    const input = this.renderRoot.querySelector<HTMLInputElement>(`input[data-offset="${CSS.escape(member.member_id)}"]`);
    if (!input) return;
    await this.run("rooms/set_offset", { room_id: room.room_id, member_id: member.member_id, offset_ms: Number(input.value) });
  }

  private async removeMember(room: Room, member: RoomMember): Promise<void> {
    await this.run("rooms/remove_member", { room_id: room.room_id, member_id: member.member_id });
  }

  private renderMember(room: Room, member: RoomMember, status: MemberStatus | undefined) {
    const { t } = this.ctx;
    const connected = status?.connected ?? member.available;
    const offset = status?.offset_ms ?? 0;
    const name = this.memberName(member);
    return html`<tr data-member=${member.member_id}>
      <td data-label=${t("rooms.member")}><span><b>${name}</b><br /><span class="muted">${this.kindName(member.kind)}</span></span></td>
      <td data-label=${t("rooms.status")}><span class=${connected ? "ok" : "error"}>${connected ? t("rooms.available") : t("rooms.unavailable")}</span></td>
      <td class="num error-ms" data-label=${t("rooms.error")}>${formatError(status?.error_ms)}</td>
      <td class="num" data-label=${t("rooms.trim")}>${formatTrim(status?.speed)}</td>
      <td class="num" data-label=${t("rooms.realignments")}>${status?.realignments ?? 0}</td>
      <td data-label=${t("rooms.offset")}>
        <span class="row">
          <input class="offset" type="number" min="-1000" max="1000" step="1" .value=${String(offset)}
            data-offset=${member.member_id} aria-label=${t("rooms.offset_of", { name })}
            @keydown=${(e: KeyboardEvent) => e.key === "Enter" && this.setOffset(room, member)} />
          <button ?disabled=${this.busy} @click=${() => this.setOffset(room, member)}
            aria-label=${t("rooms.set_offset_of", { name })}>${t("rooms.set")}</button>
        </span>
      </td>
      <td><button class="danger" ?disabled=${this.busy} @click=${() => this.removeMember(room, member)}
        aria-label=${t("rooms.remove_of", { name })}>${t("rooms.remove")}</button></td>
    </tr>`;
  }

  private renderAdd(room: Room) {
    const { t } = this.ctx;
    if (this.adding !== room.room_id) {
      return html`<div class="row" style="margin-top:12px">
        <button class="primary" @click=${() => this.openAdd(room)}>${t("rooms.add")}</button>
        <span class="muted">${t("rooms.satellites_hint")}</span>
      </div>`;
    }
    const offered = this.candidates?.[this.kind] ?? [];
    return html`<div class="row" style="margin-top:12px">
      <select aria-label=${t("rooms.add_kind")} @change=${(e: Event) => (this.kind = (e.target as HTMLSelectElement).value as Kind)}>
        ${KINDS.map((kind) => html`<option value=${kind} ?selected=${kind === this.kind}>${this.kindName(kind)}</option>`)}
      </select>
      ${this.candidates === null
        ? html`<span class="muted">…</span>`
        : offered.length === 0
          ? html`<span class="muted">${t("rooms.no_candidates")}</span>`
          : html`<select id=${`candidate-${room.room_id}`} aria-label=${t("rooms.add_which")}>
              ${offered.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
            </select>`}
      <button class="primary" ?disabled=${this.busy || offered.length === 0} @click=${() => this.add(room)}>${t("rooms.add_confirm")}</button>
      <button @click=${() => (this.adding = null)}>${t("rooms.cancel")}</button>
    </div>`;
  }

  private renderRoom(room: Room) {
    const { t } = this.ctx;
    const playerState = room.player?.state ?? "idle";
    const track = room.player?.track;
    const statuses = new Map((room.status?.members ?? []).map((s) => [s.member_id, s]));
    return html`<div class="card" data-room=${room.room_id}>
      <h2>${room.name} <span class="muted">· ${t(`rooms.state.${playerState}`)}</span></h2>
      <p class="playing">${track
        ? html`${track.title ?? ""}${track.artist ? html` <span class="muted">— ${track.artist}</span>` : nothing}`
        : html`<span class="muted">${t("rooms.nothing_playing")}</span>`}</p>
      ${room.members.length === 0
        ? html`<p class="muted">${t("rooms.no_members")}</p>`
        : html`<table aria-label=${t("rooms.members")}>
            <thead><tr>
              <th>${t("rooms.member")}</th><th>${t("rooms.status")}</th><th>${t("rooms.error")}</th>
              <th>${t("rooms.trim")}</th><th>${t("rooms.realignments")}</th><th>${t("rooms.offset")}</th><th></th>
            </tr></thead>
            <tbody>${room.members.map((member) => this.renderMember(room, member, statuses.get(member.member_id)))}</tbody>
          </table>`}
      ${this.renderAdd(room)}
    </div>`;
  }

  render() {
    const { t, live } = this.ctx;
    return html`
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
      ${live.rooms.length === 0
        ? html`<div class="card"><p class="muted">${t("rooms.none")}</p></div>`
        : live.rooms.map((room) => this.renderRoom(room))}
    `;
  }
}
