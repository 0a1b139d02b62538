import { css } from "lit";

export const cardStyles = css`
  :host { display: block; }
  ha-card, .card { display: block; padding: 16px; box-sizing: border-box; color: var(--primary-text-color);
    background: var(--ha-card-background, var(--card-background-color, #fff)); border-radius: var(--ha-card-border-radius, 12px); }
  h1 { font-size: 1.4em; margin: 0 0 12px; font-weight: 500; }
  .now { display: flex; gap: 16px; align-items: center; }
  .now img, .now .placeholder { width: 96px; height: 96px; border-radius: 12px; object-fit: cover; flex: none; }
  .placeholder { display: flex; align-items: center; justify-content: center; background: var(--secondary-background-color, #eee); }
  .placeholder svg { width: 48%; height: 48%; fill: var(--secondary-text-color); }
  .info { flex: 1; min-width: 0; }
  .title { font-size: 1.3em; font-weight: 500; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .artist { color: var(--secondary-text-color); margin-bottom: 8px; }
  .controls { display: flex; justify-content: center; gap: 24px; margin: 16px 0 8px; }
  .controls button { width: 72px; height: 72px; border-radius: 50%; border: none; cursor: pointer;
    background: var(--secondary-background-color, #eee); display: flex; align-items: center; justify-content: center; }
  .controls button.main { width: 88px; height: 88px; background: var(--primary-color, #03a9f4); }
  .controls button svg { width: 44px; height: 44px; fill: var(--primary-text-color); }
  .controls button.main svg { fill: var(--text-primary-color, #fff); }
  .controls button:focus-visible, .cover:focus-visible { outline: 3px solid var(--accent-color, #ff9800); outline-offset: 2px; }
  omb-volume { margin-bottom: 12px; }
  .grid { display: grid; gap: 16px; margin-top: 16px;
    grid-template-columns: var(--omb-columns, repeat(auto-fill, minmax(140px, 1fr))); }
  .cover { border: none; padding: 0; background: none; cursor: pointer; color: inherit; font: inherit; text-align: center; }
  .cover img, .cover .placeholder { width: 100%; aspect-ratio: 1; border-radius: 16px; object-fit: cover; display: flex; }
  .cover.current img, .cover.current .placeholder { outline: 4px solid var(--primary-color, #03a9f4); }
  .cover span { display: block; margin-top: 6px; font-size: 1.05em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .message { padding: 8px 0; color: var(--secondary-text-color); }
  .error { color: var(--error-color, #db4437); }
  @media (max-width: 480px) {
    .now img, .now .placeholder { width: 72px; height: 72px; }
    .controls button { width: 60px; height: 60px; }
    .controls button.main { width: 72px; height: 72px; }
    .grid { gap: 10px; grid-template-columns: var(--omb-columns, repeat(auto-fill, minmax(110px, 1fr))); }
  }
`;
