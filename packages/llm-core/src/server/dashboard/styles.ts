// The dashboard's stylesheet. Laid out for 1280×800 first (summary cards, then a 2×2 chart grid, then the
// engines table), collapsing to one column on narrow screens. Colours keep text contrast at WCAG AA, and
// every state is also written out as text, never shown by colour alone.
export const DASHBOARD_CSS = String.raw`
:root {
  --bg: #f4f6f9;
  --panel: #ffffff;
  --ink: #1a2230;
  --muted: #556274;
  --line: #d9dee6;
  --ok: #0b6e3d;
  --ok-bg: #e3f4ea;
  --warn: #8a5300;
  --warn-bg: #fdf0d8;
  --bad: #a4161a;
  --bad-bg: #fbe3e3;
  --info: #0b4f8a;
  --info-bg: #e2eefa;
  --focus: #1f6feb;
}
* { box-sizing: border-box; }
html { font-size: 15px; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--ink);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
  line-height: 1.4;
}
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 0.92em; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0;
}
.muted { color: var(--muted); font-weight: 400; }

.top {
  display: flex; align-items: center; gap: 1rem;
  padding: 0.6rem 1.25rem; background: var(--panel); border-bottom: 1px solid var(--line);
}
.top h1 { font-size: 1.25rem; margin: 0; flex: 1; }
.conn {
  margin: 0; padding: 0.2rem 0.7rem; border-radius: 999px; font-size: 0.9rem; font-weight: 600;
  background: var(--info-bg); color: var(--info);
}
.conn::before { content: "●"; margin-right: 0.4rem; }
.conn[data-state="live"] { background: var(--ok-bg); color: var(--ok); }
.conn[data-state="disconnected"] { background: var(--bad-bg); color: var(--bad); }
.conn[data-state="auth"] { background: var(--warn-bg); color: var(--warn); }

.btn {
  font: inherit; font-size: 0.9rem; padding: 0.3rem 0.8rem; border-radius: 6px;
  border: 1px solid var(--line); background: var(--panel); color: var(--ink); cursor: pointer;
}
.btn:hover { background: var(--bg); }
.btn.primary { background: var(--info); border-color: var(--info); color: #fff; }

main { padding: 0.9rem 1.25rem; max-width: 1600px; margin: 0 auto; }
.panel {
  background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
  padding: 0.7rem 0.9rem; margin: 0;
}
.panel h2, .card h2 { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); margin: 0; }
.banner {
  margin-bottom: 0.8rem; padding: 0.6rem 0.9rem; border-radius: 8px;
  background: var(--bad-bg); color: var(--bad); border: 1px solid #f0b8b8; font-weight: 600;
}
.auth { margin-bottom: 0.8rem; border-color: #e8c98f; background: #fffaf0; }
.auth h2 { color: var(--warn); font-size: 1rem; text-transform: none; letter-spacing: 0; }
.auth form { display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; }
.auth input { font: inherit; padding: 0.3rem 0.5rem; min-width: 22rem; border: 1px solid #9aa5b4; border-radius: 6px; }
.auth .error { color: var(--bad); font-weight: 600; }

.cards { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 0.7rem; margin-bottom: 0.8rem; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 0.55rem 0.8rem; min-width: 0; }
.card .value { font-size: 1.45rem; font-weight: 700; margin: 0.15rem 0 0; font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.card .sub { font-size: 0.82rem; color: var(--muted); margin: 0.1rem 0 0; min-height: 2.3em; overflow-wrap: anywhere; }
.value.ok { color: var(--ok); }
.value.warn { color: var(--warn); }
.value.bad { color: var(--bad); }

.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0.7rem; margin-bottom: 0.8rem; }
.chart-panel figcaption { display: flex; align-items: baseline; gap: 0.6rem; margin-bottom: 0.3rem; }
.hint { font-size: 0.8rem; color: var(--muted); }
.toggle { margin-left: auto; font-size: 0.8rem; color: var(--muted); display: inline-flex; align-items: center; gap: 0.3rem; cursor: pointer; }
.canvas-box { position: relative; height: 200px; }
.latest { font-size: 0.8rem; color: var(--muted); margin: 0.3rem 0 0; min-height: 1.15em; font-variant-numeric: tabular-nums; }

.table-wrap { overflow-x: auto; margin-top: 0.4rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.88rem; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 0.35rem 0.55rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: 0.78rem; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; }
tr.empty td { color: var(--muted); font-style: italic; }
.badge { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; font-size: 0.78rem; font-weight: 700; }
.badge.ok { background: var(--ok-bg); color: var(--ok); }
.badge.warn { background: var(--warn-bg); color: var(--warn); }
.badge.bad { background: var(--bad-bg); color: var(--bad); }
.badge.info { background: var(--info-bg); color: var(--info); }
meter { width: 4.5rem; height: 0.7rem; vertical-align: middle; margin-right: 0.35rem; }

.foot { padding: 0 1.25rem 1rem; color: var(--muted); font-size: 0.82rem; max-width: 1600px; margin: 0 auto; }
.foot p { margin: 0; }

@media (max-width: 1100px) {
  .cards { grid-template-columns: repeat(3, minmax(0, 1fr)); }
}
@media (max-width: 760px) {
  .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .charts { grid-template-columns: 1fr; }
  .auth input { min-width: 0; width: 100%; }
}
`;
