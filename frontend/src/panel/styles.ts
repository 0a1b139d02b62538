import { css } from "lit";

export const panelStyles = css`
  :host { display: block; color: var(--primary-text-color); font-family: var(--paper-font-body1_-_font-family, Roboto, sans-serif); }
  .card { background: var(--card-background-color, #fff); border-radius: var(--ha-card-border-radius, 12px);
    padding: 16px; margin-bottom: 16px; box-shadow: var(--ha-card-box-shadow, none);
    border: 1px solid var(--divider-color, rgba(127,127,127,0.2)); }
  h2 { font-size: 1.2em; font-weight: 500; margin: 0 0 12px; }
  button { font: inherit; cursor: pointer; padding: 8px 14px; border-radius: 8px; border: 1px solid var(--divider-color, #ccc);
    background: var(--secondary-background-color, #f2f2f2); color: var(--primary-text-color); }
  button.primary { background: var(--primary-color, #03a9f4); color: var(--text-primary-color, #fff); border-color: transparent; }
  button.danger { color: var(--error-color, #db4437); }
  button:disabled { opacity: 0.5; cursor: default; }
  input[type="text"], input[type="number"] { font: inherit; padding: 8px; border-radius: 8px; border: 1px solid var(--divider-color, #ccc);
    background: var(--card-background-color, #fff); color: var(--primary-text-color); }
  .row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  .grid { display: grid; gap: 16px; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); }
  .tile { display: flex; flex-direction: column; gap: 6px; text-align: left; padding: 8px; border-radius: 12px; }
  .tile img, .tile .placeholder { width: 100%; aspect-ratio: 1; object-fit: cover; border-radius: 10px; }
  .placeholder { display: flex; align-items: center; justify-content: center; background: var(--secondary-background-color, #eee); }
  .placeholder svg { width: 40%; fill: var(--secondary-text-color); }
  .tile .name { font-weight: 500; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .tile .count, .muted { color: var(--secondary-text-color); font-size: 0.9em; }
  .tile.selected { outline: 3px solid var(--primary-color, #03a9f4); }
  .error { color: var(--error-color, #db4437); margin: 8px 0; }
  .ok { color: var(--success-color, #43a047); margin: 8px 0; }
  ul.list { list-style: none; padding: 0; margin: 0; }
  ul.list li { display: flex; align-items: center; gap: 12px; padding: 8px 4px; border-bottom: 1px solid var(--divider-color, rgba(127,127,127,0.2)); }
  ul.list li .grow { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; }
  li.dragging { opacity: 0.4; }
  li.over { border-top: 3px solid var(--primary-color, #03a9f4); }
  button.move { padding: 4px 10px; }
  .handle svg { width: 20px; fill: var(--secondary-text-color); cursor: grab; }
`;
