// Add tracks from the library to a playlist of one's own: search the library, add a track or a
// whole folder (in the folder's order). The list is virtualized: a library may hold 10,000 tracks.
import { LitElement, html, nothing } from "lit";
import { property, state } from "lit/decorators.js";
import { element } from "../shared/element";
import type { PlaylistDetail } from "../api/types";
import { formatDuration } from "../shared/format";
import { icon } from "../shared/icons";
import { attempt, type PanelContext } from "./context";
import { byPath, loadLibrary, type LibraryFolder, type LibraryTrack } from "./library-data";
import { indexTracks, normalize, search, type Searchable } from "./search";
import { panelStyles } from "./styles";
import "./virtual-list";

// Material Design Icons' folder (Apache 2.0).
const mdiFolder = "M10,4H4C2.89,4 2,4.89 2,6V18A2,2 0 0,0 4,20H20A2,2 0 0,0 22,18V8C22,6.89 21.1,6 20,6H12L10,4Z";

type Row = { folder: LibraryFolder; name: string } | { track: LibraryTrack };

@element("omb-track-picker")
export class OmbTrackPicker extends LitElement {
  @property({ attribute: false }) ctx!: PanelContext;
  @property() playlistId = "";
  @state() private folders: LibraryFolder[] = [];
  @state() private index: Searchable<LibraryTrack>[] = [];
  @state() private query = "";
  @state() private error = "";
  @state() private status = "";
  @state() private loaded = false;

  static styles = panelStyles;

  connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    this.error = await attempt(this.ctx, async () => {
      const listing = await loadLibrary(this.ctx);
      this.index = indexTracks(byPath(listing.tracks));
      this.folders = listing.folders;
    });
    this.loaded = true;
  }

  private folderName(folder: LibraryFolder): string {
    return this.ctx.live.playlists.find((playlist) => playlist.id === folder.playlist_id)?.name ?? folder.path;
  }

  private rows(): Row[] {
    const words = normalize(this.query);
    const folders = this.folders
      .map((folder) => ({ folder, name: this.folderName(folder) }))
      .filter((row) => !words || words.split(" ").every((word) => normalize(`${row.name} ${row.folder.path}`).includes(word)))
      .sort((a, b) => a.name.localeCompare(b.name));
    return [...folders, ...search(this.index, this.query).map((track) => ({ track }))];
  }

  private async add(trackIds: string[], name: string): Promise<void> {
    this.status = "";
    this.error = await attempt(this.ctx, () =>
      this.ctx.api.call("playlists/add_tracks", { playlist_id: this.playlistId, track_ids: trackIds }),
    );
    if (!this.error) this.status = this.ctx.t("library.added", { name });
  }

  private async addFolder(row: { folder: LibraryFolder; name: string }): Promise<void> {
    // The folder playlist's own order (track numbers), not the picker's.
    this.error = await attempt(this.ctx, async () => {
      const folder = await this.ctx.api.call<PlaylistDetail>("playlists/get", { playlist_id: row.folder.playlist_id });
      await this.add(folder.track_ids, row.name);
    });
  }

  private renderRow(row: Row) {
    const t = this.ctx.t;
    if ("folder" in row) {
      return html`<li class="folder"><span class="icon">${icon(mdiFolder)}</span><span class="grow">${row.name}</span>
        <button aria-label=${t("library.add_folder", { name: row.name })} @click=${() => this.addFolder(row)}>
          + ${t("library.add_all")}</button></li>`;
    }
    const track = row.track;
    const title = track.title ?? track.path;
    return html`<li><span class="grow" title=${track.path}>${title}${track.artist ? html` <span class="muted">· ${track.artist}</span>` : nothing}
        <span class="muted">· ${track.path}</span></span>
      <span class="muted">${formatDuration(track.duration_ms)}</span>
      <button aria-label=${t("library.add_track", { title })} @click=${() => this.add([track.track_id], title)}>
        + ${t("library.add")}</button></li>`;
  }

  render() {
    const t = this.ctx.t;
    const rows = this.loaded ? this.rows() : [];
    return html`<div class="card picker">
      <div class="row">
        <h2 style="flex:1">${t("library.add_tracks")}</h2>
        <button @click=${() => this.dispatchEvent(new CustomEvent("close"))}>${t("library.done")}</button>
      </div>
      <input id="track-search" type="text" placeholder=${t("library.search")} aria-label=${t("library.search")}
        style="width:100%;box-sizing:border-box" @input=${(e: Event) => (this.query = (e.target as HTMLInputElement).value)} />
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
      ${this.status ? html`<div class="ok" role="status">${this.status}</div>` : nothing}
      ${this.loaded && rows.length === 0 ? html`<p class="muted">${t("library.no_match")}</p>` : nothing}
      <omb-virtual-list .count=${rows.length} .rowHeight=${48} list-label=${t("library.add_tracks")}
        .renderRow=${(index: number) => this.renderRow(rows[index])}></omb-virtual-list>
    </div>`;
  }
}
