// Formatting of durations, token counts, costs and times for tables and detail panes.
// Every function is total: null/undefined/NaN render as an en dash, never "NaN".

const DASH = '–';

function bad(n: number | null | undefined): n is null | undefined {
  return n === null || n === undefined || !Number.isFinite(n);
}

// 1234567 ns -> "1.23 ms"; 2.5e9 -> "2.50 s"; 75e9 -> "1m 15s"; 3.7e12 -> "1h 1m".
export function formatDuration(ns: number | null | undefined): string {
  if (bad(ns)) return DASH;
  if (ns < 0) return '-' + formatDuration(-ns);
  if (ns < 1e3) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${trim3(ns / 1e3)} µs`;
  if (ns < 1e9) return `${trim3(ns / 1e6)} ms`;
  if (ns < 60e9) return `${trim3(ns / 1e9)} s`;
  const totalS = Math.floor(ns / 1e9);
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m ${totalS % 60}s`;
  const h = Math.floor(totalS / 3600);
  if (h < 48) return `${h}h ${Math.floor((totalS % 3600) / 60)}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

// Three significant digits: 1.234 -> "1.23", 12.34 -> "12.3", 123.4 -> "123".
function trim3(v: number): string {
  if (v >= 100) return Math.round(v).toString();
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

// 950 -> "950"; 1234 -> "1.2k"; 1_500_000 -> "1.5M".
export function formatTokens(n: number | null | undefined): string {
  if (bad(n)) return DASH;
  const a = Math.abs(n);
  if (a < 1000) return Math.round(n).toString();
  if (a < 1e6) return `${(n / 1e3).toFixed(a < 1e4 ? 1 : 0)}k`;
  if (a < 1e9) return `${(n / 1e6).toFixed(a < 1e7 ? 1 : 0)}M`;
  return `${(n / 1e9).toFixed(1)}B`;
}

// Full count with thousands separators, for detail panes: 12345 -> "12,345".
export function formatCount(n: number | null | undefined): string {
  if (bad(n)) return DASH;
  return Math.round(n).toLocaleString('en-US');
}

// Dollars: sub-cent amounts keep significant digits ($0.00033), larger ones cents.
export function formatCost(usd: number | null | undefined): string {
  if (bad(usd)) return DASH;
  if (usd === 0) return '$0';
  const a = Math.abs(usd);
  if (a < 0.0001) return `$${usd.toExponential(1)}`;
  if (a < 0.01) return `$${usd.toFixed(5).replace(/0+$/, '')}`;
  if (a < 1) return `$${usd.toFixed(4).replace(/0+$/, '').replace(/\.$/, '')}`;
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function pad(n: number, w = 2): string {
  return n.toString().padStart(w, '0');
}

// Local wall-clock time: "2026-03-23 17:42:11.420".
export function formatTimestamp(ns: number | null | undefined): string {
  if (bad(ns)) return DASH;
  const d = new Date(ns / 1e6);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// "5s ago", "3m ago", "2h ago", "4d ago"; future times read "in 5s".
export function formatRelative(ns: number | null | undefined, nowMs: number = Date.now()): string {
  if (bad(ns)) return DASH;
  const diffS = Math.round((nowMs - ns / 1e6) / 1000);
  const a = Math.abs(diffS);
  let text: string;
  if (a < 60) text = `${a}s`;
  else if (a < 3600) text = `${Math.floor(a / 60)}m`;
  else if (a < 86400) text = `${Math.floor(a / 3600)}h`;
  else text = `${Math.floor(a / 86400)}d`;
  return diffS >= 0 ? `${text} ago` : `in ${text}`;
}

// Offset from the trace start on the timeline axis: "+1.20 s".
export function formatOffset(ns: number): string {
  return ns <= 0 ? '0' : `+${formatDuration(ns)}`;
}

// Bytes: 1536 -> "1.5 KiB".
export function formatBytes(n: number | null | undefined): string {
  if (bad(n)) return DASH;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
