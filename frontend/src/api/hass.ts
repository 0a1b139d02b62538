// The parts of Home Assistant's frontend `hass` object that the card and the panel use.

export interface HassEntity {
  entity_id: string;
  state: string;
  attributes: Record<string, unknown>;
}

export type Unsubscribe = () => Promise<void>;

export interface HassConnection {
  subscribeMessage<T>(callback: (message: T) => void, message: Record<string, unknown>): Promise<Unsubscribe>;
}

export type Localize = (key: string, values?: Record<string, unknown>) => string;

export interface HomeAssistant {
  language: string;
  states: Record<string, HassEntity>;
  user?: { is_admin: boolean; name: string };
  themes?: { darkMode?: boolean };
  connection: HassConnection;
  callWS<T>(message: Record<string, unknown>): Promise<T>;
  callService(domain: string, service: string, data?: Record<string, unknown>, target?: Record<string, unknown>): Promise<unknown>;
  callApi<T>(method: "GET" | "POST" | "DELETE", path: string, body?: Record<string, unknown>): Promise<T>;
  loadBackendTranslation?(category: string, integration?: string): Promise<Localize>;
  /** fetch() with the user's access token (Home Assistant's HTTP API, e.g. its media upload). */
  fetchWithAuth(path: string, init?: RequestInit): Promise<Response>;
}

export interface WsError {
  code?: string;
  message?: string;
  translation_key?: string;
  translation_placeholders?: Record<string, string>;
}
