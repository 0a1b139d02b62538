// A progress bar that moves smoothly between the box's position events (one animation frame
// at a time, writing only a CSS variable: no re-render, no polling of the box).
import { LitElement, css, html } from "lit";
import { property } from "lit/decorators.js";
import { element } from "../shared/element";
import { fractionAt, positionAt, type Anchor } from "../shared/progress";
import { formatDuration } from "../shared/format";

@element("omb-progress-bar")
export class OmbProgressBar extends LitElement {
  @property({ attribute: false }) anchor: Anchor | null = null;
  @property() label = "";
  private frame = 0;

  static styles = css`
    :host { display: block; }
    .track { height: 10px; border-radius: 5px; background: var(--divider-color, rgba(127, 127, 127, 0.3)); overflow: hidden; }
    .fill { height: 100%; width: calc(var(--omb-progress, 0) * 100%); background: var(--primary-color, #03a9f4); border-radius: 5px; }
    .times { display: flex; justify-content: space-between; font-size: 0.85em; color: var(--secondary-text-color); margin-top: 4px; }
  `;

  disconnectedCallback(): void {
    super.disconnectedCallback();
    cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  protected updated(): void {
    this.tick();
  }

  private tick = (): void => {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    const anchor = this.anchor;
    const now = performance.now();
    const fraction = anchor ? fractionAt(anchor, now) : 0;
    this.style.setProperty("--omb-progress", fraction.toFixed(4));
    const bar = this.renderRoot.querySelector(".track");
    bar?.setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
    const elapsed = this.renderRoot.querySelector(".elapsed");
    if (elapsed) elapsed.textContent = formatDuration(anchor ? positionAt(anchor, now) : 0);
    if (anchor?.playing && this.isConnected) this.frame = requestAnimationFrame(this.tick);
  };

  render() {
    return html`
      <div class="track" role="progressbar" aria-label=${this.label} aria-valuemin="0" aria-valuemax="100">
        <div class="fill"></div>
      </div>
      <div class="times"><span class="elapsed"></span><span>${formatDuration(this.anchor?.durationMs ?? null)}</span></div>
    `;
  }
}
