// The volume slider: the part above the box's maximum is shaded, and the thumb stops there.
import { LitElement, css, html } from "lit";
import { customElement, property } from "lit/decorators.js";
import { icon, mdiVolumeHigh } from "../shared/icons";

@customElement("omb-volume")
export class OmbVolume extends LitElement {
  /** 0..1 */
  @property({ type: Number }) volume = 0;
  /** 0..1 */
  @property({ type: Number }) max = 1;
  @property() label = "Volume";
  @property() maxLabel = "Maximum";

  static styles = css`
    :host { display: flex; align-items: center; gap: 12px; }
    svg { width: 28px; height: 28px; fill: var(--primary-text-color); flex: none; }
    input { flex: 1; height: 36px; accent-color: var(--primary-color, #03a9f4); background: transparent;
      --omb-max: 100%; }
    input::-webkit-slider-runnable-track { height: 10px; border-radius: 5px;
      background: linear-gradient(to right, var(--divider-color, rgba(127,127,127,0.35)) var(--omb-max),
        repeating-linear-gradient(45deg, var(--error-color, #db4437) 0 4px, transparent 4px 8px) var(--omb-max)); }
    input::-webkit-slider-thumb { margin-top: -9px; }
    .max { font-size: 0.85em; color: var(--error-color, #db4437); min-width: 4em; }
    .max[hidden] { visibility: hidden; display: block; }
  `;

  private onInput(event: Event): void {
    const input = event.target as HTMLInputElement;
    const cap = Math.round(this.max * 100);
    if (Number(input.value) > cap) input.value = String(cap); // stops visibly at the maximum
    const atMax = Number(input.value) >= cap;
    this.renderRoot.querySelector(".max")?.toggleAttribute("hidden", !atMax);
    if (event.type === "change") {
      this.dispatchEvent(new CustomEvent("volume-change", { detail: Number(input.value) / 100 }));
    }
  }

  render() {
    const cap = Math.round(this.max * 100);
    const value = Math.min(Math.round(this.volume * 100), cap);
    return html`
      ${icon(mdiVolumeHigh)}
      <input type="range" min="0" max="100" step="1" .value=${String(value)} aria-label=${this.label}
        style="--omb-max: ${cap}%" @input=${this.onInput} @change=${this.onInput} />
      <span class="max" ?hidden=${value < cap} aria-live="polite">${this.maxLabel}</span>
    `;
  }
}
