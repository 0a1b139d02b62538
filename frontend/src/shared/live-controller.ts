// Keeps a box's live state for a Lit element: subscribes while the element is connected, folds
// every event (snapshot, player, position…) and asks the element to render. No polling.
import type { ReactiveController, ReactiveControllerHost } from "lit";
import { BoxApi } from "../api/box";
import type { HomeAssistant, Unsubscribe } from "../api/hass";
import { EMPTY, reduce, type LiveState } from "../api/live";
import type { Envelope } from "../api/types";

export class LiveController implements ReactiveController {
  state: LiveState = EMPTY;
  api: BoxApi | null = null;
  error: unknown = null;
  private unsubscribe: Promise<Unsubscribe | null> | null = null;
  private connected = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly hass: () => HomeAssistant,
    private readonly onEvent?: (event: Envelope, state: LiveState) => void,
  ) {
    host.addController(this);
  }

  /** Follow another box (or none). */
  setEntry(entryId: string | null): void {
    if (this.api?.entryId === (entryId ?? undefined)) return;
    this.stop();
    this.state = EMPTY;
    this.api = entryId ? new BoxApi(this.hass, entryId) : null;
    if (this.connected) this.start();
    this.host.requestUpdate();
  }

  hostConnected(): void {
    this.connected = true;
    this.start();
  }

  hostDisconnected(): void {
    this.connected = false;
    this.stop();
  }

  private start(): void {
    if (!this.api || this.unsubscribe) return;
    const api = this.api;
    this.unsubscribe = api
      .subscribe((event) => {
        if (event.type === "closed") {
          // The box reloaded: subscribe again (a snapshot comes first).
          this.unsubscribe = null;
          setTimeout(() => this.start(), 2000);
          return;
        }
        this.state = reduce(this.state, event);
        this.onEvent?.(event, this.state);
        this.host.requestUpdate();
      })
      .catch((err: unknown) => {
        this.error = err;
        this.unsubscribe = null;
        this.host.requestUpdate();
        return null;
      });
  }

  private stop(): void {
    const pending = this.unsubscribe;
    this.unsubscribe = null;
    void pending?.then((unsubscribe) => unsubscribe?.()).catch(() => undefined);
  }
}
