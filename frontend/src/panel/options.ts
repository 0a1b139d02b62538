// The box's options (default volume, children's settings, tag readers…) through Home Assistant's
// own options flow, as the options dialog does: start the flow, read its values, submit every
// field, then walk the readers' steps (one per tag reader), keeping or changing each assignment.
import type { HomeAssistant } from "../api/hass";
import { DOMAIN } from "../api/box";

interface FlowField {
  name: string;
  default?: unknown;
  description?: { suggested_value?: unknown };
  selector?: { select?: { options?: { value: string; label: string }[] } };
}

interface FlowStep {
  flow_id: string;
  type: string;
  step_id?: string;
  data_schema?: FlowField[];
  errors?: Record<string, string> | null;
  description_placeholders?: Record<string, string> | null;
}

/** One tag reader the box has heard: its name, where it is assigned, and the choices. */
export interface Reader {
  name: string;
  assign: string;
  choices: { value: string; label: string }[];
}

const BASE = "config/config_entries/options/flow";
const READER_STEP = "reader";

async function start(hass: HomeAssistant, entryId: string): Promise<FlowStep> {
  return hass.callApi<FlowStep>("POST", BASE, { handler: entryId, show_advanced_options: false });
}

function values(step: FlowStep): Record<string, unknown> {
  // Optional fields show the current value as a suggestion, required ones as their default.
  return Object.fromEntries(
    (step.data_schema ?? []).map((field) => [field.name, field.description?.suggested_value ?? field.default]),
  );
}

function reader(step: FlowStep): Reader {
  const field = (step.data_schema ?? []).find((f) => f.name === "assign");
  return {
    name: step.description_placeholders?.reader ?? "",
    assign: String(field?.default ?? "none"),
    choices: field?.selector?.select?.options ?? [],
  };
}

export async function readOptions(hass: HomeAssistant, entryId: string): Promise<Record<string, unknown>> {
  const step = await start(hass, entryId);
  await hass.callApi("DELETE", `${BASE}/${step.flow_id}`).catch(() => undefined);
  return values(step);
}

async function failed(hass: HomeAssistant, step: FlowStep): Promise<string> {
  await hass.callApi("DELETE", `${BASE}/${step.flow_id}`).catch(() => undefined);
  const key = Object.values(step.errors ?? {})[0] ?? "unknown";
  const localize = await hass.loadBackendTranslation?.("options", DOMAIN).catch(() => undefined);
  return localize?.(`component.${DOMAIN}.options.error.${key}`) || key;
}

/**
 * Change some options (and reader assignments, by reader name); resolves to "" or the flow's
 * translated error. `seen` gets every reader step met on the way.
 */
export async function writeOptions(
  hass: HomeAssistant,
  entryId: string,
  patch: Record<string, unknown>,
  assign: Record<string, string> = {},
  seen: Reader[] = [],
): Promise<string> {
  const first = await start(hass, entryId);
  let result = await hass.callApi<FlowStep>("POST", `${BASE}/${first.flow_id}`, { ...values(first), ...patch });
  while (result.type === "form" && result.step_id === READER_STEP) {
    const found = reader(result);
    const wanted = assign[found.name] ?? found.assign;
    seen.push({ ...found, assign: wanted });
    result = await hass.callApi<FlowStep>("POST", `${BASE}/${result.flow_id}`, { assign: wanted });
  }
  if (result.type === "create_entry") return "";
  return failed(hass, result);
}

/** The tag readers the box has heard, with their assignment (the flow saves nothing new). */
export async function readReaders(hass: HomeAssistant, entryId: string): Promise<Reader[]> {
  const seen: Reader[] = [];
  const error = await writeOptions(hass, entryId, {}, {}, seen);
  if (error) throw new Error(error);
  return seen;
}
