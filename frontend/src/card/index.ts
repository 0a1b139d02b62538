// The card bundle: loaded on every page by the integration (frontend.add_extra_js_url).
import "./card";
import "./editor";

interface CustomCardEntry {
  type: string;
  name: string;
  description: string;
  preview?: boolean;
}

const registry = window as unknown as { customCards?: CustomCardEntry[] };
registry.customCards = registry.customCards ?? [];
if (!registry.customCards.some((card) => card.type === "open-music-box-card")) {
  registry.customCards.push({
    type: "open-music-box-card",
    name: "Open Music Box",
    description: "Big covers to tap, what plays now, big buttons and the volume: a music box for children.",
    preview: true,
  });
}
