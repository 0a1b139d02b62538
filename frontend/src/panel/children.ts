// Children: volumes (maximum, at start, minimum), the sleep timer, the daily listening limit
// (listened today, extra minutes), bedtime (now, by the clock, its rules and playlists), the lock
// and the tag readers. Options go through the options flow; the rest (tag readers included) through
// the box's commands and its own entities (bedtime switch, listened-today sensor: in `hass.states`).
import { LitElement, css, html, nothing } from "lit";
import { property, state } from "lit/decorators.js";
import { element } from "../shared/element";
import type { EntityRegistryEntry } from "../api/covers";
import { attempt, type PanelContext } from "./context";
import { readOptions, writeOptions } from "./options";
import { panelStyles } from "./styles";

const DEFAULT_VOLUME = "default_volume";
const MIN_VOLUME = "min_volume";
const DAILY_LIMIT = "daily_limit_minutes";
const SCHEDULE = "bedtime_schedule";
const START = "bedtime_start";
const END = "bedtime_end";
const NIGHT_MAX = "bedtime_max_volume";
const SLEEP = "bedtime_sleep_minutes";
const LOCK = "lock";

/** What `children/get` answers that this view shows (it answers more). */
interface ChildrenSettings {
  daily_limit: { limit_minutes: number; extra_minutes: number; listened_minutes: number; reached: boolean };
  bedtime: { active: boolean };
  bedtime_playlists: string[];
}

/** A tag reader the box has heard, and where it plays: "box", a room's id or "none". */
interface Reader {
  device_id: string;
  name: string;
  assignment: string;
}

interface Readers {
  readers: Reader[];
  rooms: { room_id: string; name: string }[];
}

interface RegistryEntry extends EntityRegistryEntry {
  unique_id?: string;
}

@element("omb-children")
export class OmbChildren extends LitElement {
  @property({ attribute: false }) ctx!: PanelContext;
  @state() private options: Record<string, unknown> | null = null;
  @state() private status: ChildrenSettings | null = null;
  @state() private readers: Readers | null = null;
  @state() private bedtimeSwitch: string | null = null;
  @state() private error = "";
  @state() private saved = "";

  static styles = [
    panelStyles,
    css`
      .fields { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); align-items: end; }
      .fields label { display: flex; flex-direction: column; gap: 4px; }
      input[type="time"], select { font: inherit; padding: 8px; border-radius: 8px; border: 1px solid var(--divider-color, #ccc);
        background: var(--card-background-color, #fff); color: var(--primary-text-color); }
      label.check { flex-direction: row; align-items: center; }
      .big { font-size: 1.4em; font-weight: 500; }
    `,
  ];

  connectedCallback(): void {
    super.connectedCallback();
    void attempt(this.ctx, async () => {
      this.options = await readOptions(this.ctx.hass, this.ctx.api.entryId);
      await this.refresh();
      const all = await this.ctx.hass.callWS<RegistryEntry[]>({ type: "config/entity_registry/list" });
      const suffix = `${this.ctx.api.entryId}_bedtime`;
      this.bedtimeSwitch = all.find((e) => e.entity_id.startsWith("switch.") && e.unique_id === suffix)?.entity_id ?? null;
      this.readers = await this.ctx.api.call<Readers>("children/readers");
    }).then((error) => (this.error = error));
  }

  private async refresh(): Promise<void> {
    this.status = await this.ctx.api.call<ChildrenSettings>("children/get");
  }

  private option<T>(key: string, fallback: T): T {
    return (this.options?.[key] as T | undefined) ?? fallback;
  }

  private async done(error: string): Promise<void> {
    this.error = error;
    this.saved = error ? "" : this.ctx.t("children.saved");
    if (!error) await this.refresh().catch(() => undefined);
  }

  private async setMax(value: number): Promise<void> {
    const entity = this.ctx.maxVolume;
    await this.done(await attempt(this.ctx, () => this.ctx.hass.callService("number", "set_value", { entity_id: entity, value })));
  }

  /** Save some options; shown only once the box took them. */
  private async save(patch: Record<string, unknown>): Promise<void> {
    let message = "";
    const error = await attempt(this.ctx, async () => {
      message = await writeOptions(this.ctx.hass, this.ctx.api.entryId, patch);
    });
    if (!error && !message) this.options = { ...this.options, ...patch };
    await this.done(error || message);
  }

  private async assign(deviceId: string, assignment: string): Promise<void> {
    const error = await attempt(this.ctx, async () => {
      this.readers = await this.ctx.api.call<Readers>("children/assign_reader", { device_id: deviceId, assignment });
    });
    await this.done(error);
  }

  private async timer(minutes: number): Promise<void> {
    await this.done(await attempt(this.ctx, () => this.ctx.api.call("player/sleep_timer", { minutes })));
  }

  private async grant(minutes: number): Promise<void> {
    await this.done(await attempt(this.ctx, () => this.ctx.api.call("children/grant_extra_minutes", { minutes })));
  }

  private async setBedtimeNow(on: boolean): Promise<void> {
    const entity = this.bedtimeSwitch;
    await this.done(await attempt(this.ctx, () => this.ctx.hass.callService("switch", on ? "turn_on" : "turn_off", { entity_id: entity })));
  }

  private async setBedtimePlaylist(playlistId: string, bedtime: boolean): Promise<void> {
    await this.done(await attempt(this.ctx, () => this.ctx.api.call("playlists/set_bedtime", { playlist_id: playlistId, bedtime })));
  }

  private value(id: string): string {
    return this.renderRoot.querySelector<HTMLInputElement>(`#${id}`)?.value ?? "";
  }

  private saveBedtime(): Promise<void> {
    const time = (v: string) => (v.length === 5 ? `${v}:00` : v);
    return this.save({
      [START]: time(this.value("bedtime-start")),
      [END]: time(this.value("bedtime-end")),
      [NIGHT_MAX]: Number(this.value("bedtime-max")),
      [SLEEP]: Number(this.value("bedtime-sleep")),
    });
  }

  private slider(id: string, label: string, value: number, onChange: (value: number) => void) {
    return html`<label for=${id}>${label}: <b>${value} %</b></label>
      <input id=${id} type="range" min="0" max="100" step="1" .value=${String(value)} style="width:100%"
        @change=${(e: Event) => onChange(Number((e.target as HTMLInputElement).value))} />`;
  }

  private renderVolumes() {
    const { t, live } = this.ctx;
    const max = Math.round((live.player?.max_volume ?? 1) * 100);
    return html`<div class="card">
      <h2>${t("children.volumes")}</h2>
      ${this.ctx.maxVolume ? this.slider("max", t("children.max_volume"), max, (v) => this.setMax(v)) : nothing}
      ${this.options
        ? html`${this.slider("default", t("children.default_volume"), Number(this.option(DEFAULT_VOLUME, 0)), (v) =>
            this.save({ [DEFAULT_VOLUME]: v }),
          )}
          ${this.slider("min", t("children.min_volume"), Number(this.option(MIN_VOLUME, 0)), (v) => this.save({ [MIN_VOLUME]: v }))}`
        : nothing}
    </div>`;
  }

  private renderTimer() {
    const { t, live } = this.ctx;
    const ends = live.player?.sleep_timer_ends_at;
    return html`<div class="card">
      <h2>${t("children.sleep_timer")}</h2>
      <p>${ends ? t("children.timer_ends", { time: new Date(ends).toLocaleTimeString(this.ctx.hass.language) }) : t("children.no_timer")}</p>
      <div class="row">
        ${[15, 30, 45, 60].map((minutes) => html`<button @click=${() => this.timer(minutes)}>${minutes} ${t("children.minutes")}</button>`)}
        ${ends ? html`<button class="danger" @click=${() => this.timer(0)}>${t("children.cancel_timer")}</button>` : nothing}
      </div>
    </div>`;
  }

  private renderLimit() {
    const { t } = this.ctx;
    const status = this.status?.daily_limit;
    const limit = Number(this.option(DAILY_LIMIT, 0));
    return html`<div class="card" data-section="limit">
      <h2>${t("children.daily_limit")}</h2>
      ${status
        ? html`<p><span class="big" id="listened">${t("children.listened_today", { minutes: Math.round(status.listened_minutes) })}</span>
            ${status.limit_minutes
              ? html`<span class="muted">· ${t("children.limit_of", { minutes: status.limit_minutes + status.extra_minutes })}</span>`
              : html`<span class="muted">· ${t("children.no_limit")}</span>`}
            ${status.reached ? html`<span class="error">· ${t("children.limit_reached")}</span>` : nothing}</p>`
        : nothing}
      <div class="row">
        <label for="daily-limit">${t("children.limit_minutes")}</label>
        <input id="daily-limit" type="number" min="0" max="1440" step="5" .value=${String(limit)} />
        <button class="primary" @click=${() => this.save({ [DAILY_LIMIT]: Number(this.value("daily-limit")) })}>${t("children.save")}</button>
      </div>
      <div class="row" style="margin-top:12px">
        <span>${t("children.grant")}</span>
        ${[15, 30, 60].map(
          (m) => html`<button @click=${() => this.grant(m)} aria-label=${t("children.grant_minutes", { minutes: m })}>+${m} ${t("children.minutes")}</button>`,
        )}
      </div>
    </div>`;
  }

  private renderBedtime() {
    const { t, live } = this.ctx;
    const now = this.bedtimeSwitch ? this.ctx.hass.states[this.bedtimeSwitch]?.state === "on" : (this.status?.bedtime.active ?? false);
    const chosen = new Set(this.status?.bedtime_playlists ?? []);
    return html`<div class="card" data-section="bedtime">
      <h2>${t("children.bedtime")}</h2>
      <div class="row">
        <span class="big">${now ? t("children.bedtime_on") : t("children.bedtime_off")}</span>
        ${this.bedtimeSwitch
          ? html`<button class="primary" @click=${() => this.setBedtimeNow(!now)}>${now ? t("children.bedtime_end_now") : t("children.bedtime_start_now")}</button>`
          : nothing}
      </div>
      <p><label class="check row"><input type="checkbox" id="bedtime-schedule" .checked=${Boolean(this.option(SCHEDULE, false))}
        @change=${(e: Event) => this.save({ [SCHEDULE]: (e.target as HTMLInputElement).checked })} /> ${t("children.bedtime_schedule")}</label></p>
      <div class="fields">
        <label>${t("children.bedtime_start")}<input id="bedtime-start" type="time" .value=${String(this.option(START, "19:30:00")).slice(0, 5)} /></label>
        <label>${t("children.bedtime_end")}<input id="bedtime-end" type="time" .value=${String(this.option(END, "07:00:00")).slice(0, 5)} /></label>
        <label>${t("children.night_max")}<input id="bedtime-max" type="number" min="0" max="100" .value=${String(this.option(NIGHT_MAX, 30))} /></label>
        <label>${t("children.bedtime_sleep")}<input id="bedtime-sleep" type="number" min="0" max="240" .value=${String(this.option(SLEEP, 30))} /></label>
      </div>
      <p><button class="primary" @click=${() => this.saveBedtime()}>${t("children.save_bedtime")}</button></p>
      <h2>${t("children.bedtime_playlists")}</h2>
      <p class="muted">${t("children.bedtime_playlists_hint")}</p>
      <ul class="list">
        ${live.playlists.map(
          (p) => html`<li><label class="check row grow"><input type="checkbox" .checked=${chosen.has(p.id)}
            @change=${(e: Event) => this.setBedtimePlaylist(p.id, (e.target as HTMLInputElement).checked)} /> ${p.name}</label></li>`,
        )}
      </ul>
    </div>`;
  }

  private readerChoices(): { value: string; label: string }[] {
    const { t } = this.ctx;
    return [
      { value: "none", label: t("children.reader_none") },
      { value: "box", label: t("children.reader_box") },
      ...(this.readers?.rooms ?? []).map((room) => ({ value: room.room_id, label: room.name })),
    ];
  }

  private renderLockAndReaders() {
    const { t } = this.ctx;
    return html`<div class="card">
      <h2>${t("children.lock")}</h2>
      <label class="check row"><input type="checkbox" id="lock" .checked=${Boolean(this.option(LOCK, false))}
        @change=${(e: Event) => this.save({ [LOCK]: (e.target as HTMLInputElement).checked })} /> ${t("children.lock_hint")}</label>
      <h2 style="margin-top:16px">${t("children.readers")}</h2>
      ${this.readers === null
        ? nothing
        : this.readers.readers.length === 0
          ? html`<p class="muted">${t("children.no_readers")}</p>`
          : html`<ul class="list">${this.readers.readers.map(
              (r) => html`<li><span class="grow">${r.name}</span>
                <select aria-label=${t("children.reader_of", { name: r.name })}
                  @change=${(e: Event) => this.assign(r.device_id, (e.target as HTMLSelectElement).value)}>
                  ${this.readerChoices().map((c) => html`<option value=${c.value} ?selected=${c.value === r.assignment}>${c.label}</option>`)}
                </select></li>`,
            )}</ul>`}
    </div>`;
  }

  render() {
    return html`
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
      ${this.saved ? html`<div class="ok" role="status">${this.saved}</div>` : nothing}
      ${this.renderVolumes()} ${this.renderTimer()} ${this.renderLimit()} ${this.renderBedtime()} ${this.renderLockAndReaders()}
    `;
  }
}
