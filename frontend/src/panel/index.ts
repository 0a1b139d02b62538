// The panel bundle: loaded by Home Assistant's panel_custom when the sidebar entry is opened.
import "./panel";
