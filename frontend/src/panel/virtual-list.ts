// A long list that renders only the rows in view (and a few around them): every row has the
// same height, the rows above the first rendered one are an empty padding. The rows keep their
// own markup (an <li> each), so drag and drop and buttons work as in a plain list. They are
// drawn in this element's shadow root: their styles are here.
import { LitElement, css, html, type TemplateResult } from "lit";
import { property, state } from "lit/decorators.js";
import { element } from "../shared/element";
import { panelStyles } from "./styles";
import { visibleRows } from "./window";

const EDGE = 48; // px from the top or bottom where a drag scrolls the list

@element("omb-virtual-list")
export class OmbVirtualList extends LitElement {
  @property({ type: Number }) count = 0;
  @property({ type: Number }) rowHeight = 48;
  @property({ attribute: false }) renderRow: (index: number) => TemplateResult = () => html``;
  @property({ attribute: "list-label" }) listLabel = "";
  @state() private offset = 0;
  @state() private viewport = 800;
  private frame = 0;
  private resize?: ResizeObserver;

  static styles = [
    panelStyles,
    css`
      .scroller { overflow-y: auto; max-height: min(70vh, 720px); overscroll-behavior: contain; contain: strict; }
      ul.list li { box-sizing: border-box; white-space: nowrap; height: var(--row); }
      .icon svg { width: 20px; fill: var(--secondary-text-color); }
      @media (max-width: 500px) { ul.list li { gap: 6px; } button.move { padding: 4px 7px; } }
    `,
  ];

  connectedCallback(): void {
    super.connectedCallback();
    // Observed again after each reconnection (the panel moves views in and out of the page).
    this.resize = new ResizeObserver(() => {
      const scroller = this.scroller;
      if (scroller) this.viewport = scroller.clientHeight || this.viewport;
    });
    void this.updateComplete.then(() => {
      const scroller = this.scroller;
      if (scroller && this.isConnected) this.resize?.observe(scroller);
    });
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize?.disconnect();
    cancelAnimationFrame(this.frame);
  }

  private get scroller(): HTMLElement | null {
    return this.renderRoot.querySelector<HTMLElement>(".scroller");
  }

  private onScroll(): void {
    // One update a frame, and only when another row comes into view.
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => {
      const scroller = this.scroller;
      if (!scroller) return;
      const before = visibleRows(this.offset, this.viewport, this.rowHeight, this.count);
      const after = visibleRows(scroller.scrollTop, this.viewport, this.rowHeight, this.count);
      if (before.first !== after.first || before.end !== after.end) this.offset = scroller.scrollTop;
    });
  }

  private onDragOver(event: DragEvent): void {
    // Dragging a track near an edge scrolls, so it can go to a row out of view.
    const scroller = this.scroller;
    if (!scroller) return;
    const box = scroller.getBoundingClientRect();
    if (event.clientY < box.top + EDGE) scroller.scrollTop -= this.rowHeight / 2;
    else if (event.clientY > box.bottom - EDGE) scroller.scrollTop += this.rowHeight / 2;
  }

  render() {
    const { first, end } = visibleRows(this.offset, this.viewport, this.rowHeight, this.count);
    const rows: TemplateResult[] = [];
    for (let index = first; index < end; index++) rows.push(this.renderRow(index));
    const total = this.count * this.rowHeight;
    return html`<div class="scroller" style="height:${Math.min(total, 720)}px" @scroll=${this.onScroll}
        @dragover=${this.onDragOver}>
      <ul class="list" aria-label=${this.listLabel} style="height:${total}px;padding-top:${first * this.rowHeight}px;box-sizing:border-box;--row:${this.rowHeight}px">
        ${rows}
      </ul>
    </div>`;
  }
}
