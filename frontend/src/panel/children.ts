// Children: the maximum volume, the volume at start and the sleep timer.
import { LitElement, html, nothing } from "lit";
import { property, state } from "lit/decorators.js";
import { element } from "../shared/element";
import { attempt, type PanelContext } from "./context";
import { readOptions, writeOptions } from "./options";
import { panelStyles } from "./styles";

const DEFAULT_VOLUME = "default_volume";

@element("omb-children")
export class OmbChildren extends LitElement {
  @property({ attribute: false }) ctx!: PanelContext;
  @state() private defaultVolume: number | null = null;
  @state() private error = "";
  @state() private saved = "";

  static styles = panelStyles;

  connectedCallback(): void {
    super.connectedCallback();
    void attempt(this.ctx, async () => {
      const options = await readOptions(this.ctx.hass, this.ctx.api.entryId);
      this.defaultVolume = Number(options[DEFAULT_VOLUME] ?? 0);
    }).then((error) => (this.error = error));
  }

  private async done(error: string): Promise<void> {
    this.error = error;
    this.saved = error ? "" : this.ctx.t("children.saved");
  }

  private async setMax(value: number): Promise<void> {
    const entity = this.ctx.maxVolume;
    await this.done(await attempt(this.ctx, () => this.ctx.hass.callService("number", "set_value", { entity_id: entity, value })));
  }

  private async setDefault(value: number): Promise<void> {
    let message = "";
    const error = await attempt(this.ctx, async () => {
      message = await writeOptions(this.ctx.hass, this.ctx.api.entryId, { [DEFAULT_VOLUME]: value });
    });
    await this.done(error || message);
    if (!error && !message) this.defaultVolume = value;
  }

  private async timer(minutes: number): Promise<void> {
    await this.done(await attempt(this.ctx, () => this.ctx.api.call("player/sleep_timer", { minutes })));
  }

  private slider(id: string, label: string, value: number, onChange: (value: number) => void) {
    return html`<label for=${id}>${label}: <b>${value} %</b></label>
      <input id=${id} type="range" min="0" max="100" step="1" .value=${String(value)} style="width:100%"
        @change=${(e: Event) => onChange(Number((e.target as HTMLInputElement).value))} />`;
  }

  render() {
    const { t, live } = this.ctx;
    const max = Math.round((live.player?.max_volume ?? 1) * 100);
    const ends = live.player?.sleep_timer_ends_at;
    return html`
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
      ${this.saved ? html`<div class="ok" role="status">${this.saved}</div>` : nothing}
      <div class="card">
        ${this.ctx.maxVolume ? this.slider("max", t("children.max_volume"), max, (v) => this.setMax(v)) : nothing}
        ${this.defaultVolume !== null
          ? this.slider("default", t("children.default_volume"), this.defaultVolume, (v) => this.setDefault(v))
          : nothing}
      </div>
      <div class="card">
        <h2>${t("children.sleep_timer")}</h2>
        <p>${ends ? t("children.timer_ends", { time: new Date(ends).toLocaleTimeString(this.ctx.hass.language) }) : t("children.no_timer")}</p>
        <div class="row">
          ${[15, 30, 45, 60].map(
            (minutes) => html`<button @click=${() => this.timer(minutes)}>${minutes} ${t("children.minutes")}</button>`,
          )}
          ${ends ? html`<button class="danger" @click=${() => this.timer(0)}>${t("children.cancel_timer")}</button>` : nothing}
        </div>
      </div>
    `;
  }
}
