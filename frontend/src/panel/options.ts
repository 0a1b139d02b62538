// The box's options (default volume…) through Home Assistant's own options flow, as the
// options dialog does: start the flow, read its defaults, submit every field.
import type { HomeAssistant } from "../api/hass";
import { DOMAIN } from "../api/box";

interface FlowField {
  name: string;
  default?: unknown;
}

interface FlowStep {
  flow_id: string;
  type: string;
  data_schema?: FlowField[];
  errors?: Record<string, string> | null;
}

const BASE = "config/config_entries/options/flow";

async function start(hass: HomeAssistant, entryId: string): Promise<FlowStep> {
  return hass.callApi<FlowStep>("POST", BASE, { handler: entryId, show_advanced_options: false });
}

function values(step: FlowStep): Record<string, unknown> {
  return Object.fromEntries((step.data_schema ?? []).map((field) => [field.name, field.default]));
}

export async function readOptions(hass: HomeAssistant, entryId: string): Promise<Record<string, unknown>> {
  const step = await start(hass, entryId);
  await hass.callApi("DELETE", `${BASE}/${step.flow_id}`).catch(() => undefined);
  return values(step);
}

/** Change some options; resolves to "" or the flow's translated error. */
export async function writeOptions(hass: HomeAssistant, entryId: string, patch: Record<string, unknown>): Promise<string> {
  const step = await start(hass, entryId);
  const result = await hass.callApi<FlowStep>("POST", `${BASE}/${step.flow_id}`, { ...values(step), ...patch });
  if (result.type === "create_entry") return "";
  await hass.callApi("DELETE", `${BASE}/${step.flow_id}`).catch(() => undefined);
  const key = Object.values(result.errors ?? {})[0] ?? "unknown";
  const localize = await hass.loadBackendTranslation?.("options", DOMAIN).catch(() => undefined);
  return localize?.(`component.${DOMAIN}.options.error.${key}`) || key;
}
