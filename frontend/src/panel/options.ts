// The box's options (default volume, children's settings…) through Home Assistant's own options
// flow, as the options dialog does: start the flow, read its values, submit every field, then walk
// the readers' steps (one per tag reader), keeping each assignment. The readers themselves are
// listed and assigned by the box's commands (children/readers, children/assign_reader).
import type { HomeAssistant } from "../api/hass";
import { DOMAIN } from "../api/box";

interface FlowField {
  name: string;
  default?: unknown;
  description?: { suggested_value?: unknown };
}

interface FlowStep {
  flow_id: string;
  type: string;
  step_id?: string;
  data_schema?: FlowField[];
  errors?: Record<string, string> | null;
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

function assigned(step: FlowStep): string {
  return String((step.data_schema ?? []).find((f) => f.name === "assign")?.default ?? "none");
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

/** Change some options; resolves to "" or the flow's translated error. Readers keep their place. */
export async function writeOptions(hass: HomeAssistant, entryId: string, patch: Record<string, unknown>): Promise<string> {
  const first = await start(hass, entryId);
  let result = await hass.callApi<FlowStep>("POST", `${BASE}/${first.flow_id}`, { ...values(first), ...patch });
  while (result.type === "form" && result.step_id === READER_STEP) {
    result = await hass.callApi<FlowStep>("POST", `${BASE}/${result.flow_id}`, { assign: assigned(result) });
  }
  if (result.type === "create_entry") return "";
  return failed(hass, result);
}
