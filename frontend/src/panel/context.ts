// What every view of the panel gets from the panel: the box's API, its live state, covers, strings.
import type { BoxApi } from "../api/box";
import type { HomeAssistant } from "../api/hass";
import type { LiveState } from "../api/live";
import type { Translate } from "../i18n";
import { errorText } from "../shared/errors";

export interface PanelContext {
  hass: HomeAssistant;
  api: BoxApi;
  live: LiveState;
  covers: Map<string, string>;
  t: Translate;
  /** The box's own entities (from the entity registry). */
  player: string | null;
  maxVolume: string | null;
}

/** Run a command; resolve to "" or to its translated error (shown inline by the caller). */
export async function attempt(ctx: PanelContext, run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return "";
  } catch (err) {
    return errorText(ctx.hass, ctx.t, err);
  }
}
