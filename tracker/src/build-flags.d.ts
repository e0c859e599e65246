// Build-time constants: scripts/build.mjs replaces them per variant and terser drops dead code.
declare const CLICK_EVENTS: boolean;
declare const PAGE_EVENTS: boolean;
