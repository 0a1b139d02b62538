// The volume slider: the part above the box's maximum is shaded, and the thumb stops there.
import { LitElement, css, html, nothing } from "lit";
import { property } from "lit/decorators.js";
import { element } from "../shared/element";
import { icon, mdiVolumeHigh } from "../shared/icons";

@element("omb-volume")
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
    .slider { flex: 1; position: relative; }
    input { width: 100%; height: 36px; margin: 0; accent-color: var(--primary-color, #03a9f4); }
    /* The part above the maximum: hatched, the thumb never goes there. */
    .capped { position: absolute; top: 50%; right: 0; height: 10px; transform: translateY(-50%); pointer-events: none;
      border-radius: 0 5px 5px 0; opacity: 0.7;
      background: repeating-linear-gradient(45deg, var(--error-color, #db4437) 0 3px, transparent 3px 7px); }
    .max { position: absolute; left: 0; right: 0; top: 100%; font-size: 0.8em; text-align: right;
      color: var(--error-color, #db4437); }
    .max[hidden] { display: none; }
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
      <div class="slider">
        <input type="range" min="0" max="100" step="1" .value=${String(value)} aria-label=${this.label}
          @input=${this.onInput} @change=${this.onInput} />
        ${cap < 100 ? html`<div class="capped" style="left: ${cap}%"></div>` : nothing}
        <span class="max" ?hidden=${value < cap} aria-live="polite">${this.maxLabel}</span>
      </div>
    `;
  }
}
