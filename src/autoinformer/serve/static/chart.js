/* A tiny SVG bar chart (no library, no CDN): horizontal bars for the outcomes, vertical bars
   for the calls per hour. Text goes in with textContent, never as markup. */
"use strict";
const SVG = "http://www.w3.org/2000/svg";

function svgEl(name, attrs) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  return el;
}

const COLORS = {
  delivered: "#2f9e5b", transferred: "#1d7a8c", hung_up_early: "#8bbf5a", abandoned: "#b3261e",
  agent_error: "#d2691e", machine: "#8a63b8", no_answer: "#9aa3b5", busy: "#e0a030",
  rejected: "#c0607a", unreachable: "#6b7488", failed: "#5a2a27", invalid_number: "#444",
  opted_out: "#c09020", unknown: "#bbb",
};

/** Horizontal bars: [[label, value], ...] (zeros left out). */
function barsH(container, pairs) {
  const rows = pairs.filter(([, v]) => v > 0);
  container.replaceChildren();
  if (!rows.length) { container.textContent = "No call has finished yet."; return; }
  const max = Math.max(...rows.map(([, v]) => v));
  const rowH = 22, labelW = 110, width = 420, barW = width - labelW - 50;
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${rows.length * rowH + 4}`, role: "img" });
  rows.forEach(([label, value], i) => {
    const y = i * rowH + 2;
    const text = svgEl("text", { x: labelW - 6, y: y + 14, "text-anchor": "end" });
    text.textContent = label.replace(/_/g, " ");
    const w = Math.max(2, (value / max) * barW);
    const rect = svgEl("rect", { x: labelW, y, width: w, height: rowH - 6, rx: 3,
      fill: COLORS[label] || "#2f5bd3" });
    rect.dataset.outcome = label;
    const num = svgEl("text", { x: labelW + w + 5, y: y + 14, class: "value" });
    num.textContent = String(value);
    svg.append(text, rect, num);
  });
  container.append(svg);
}

/** Vertical bars: [[label, value], ...]; labels shortened to their hour. */
function barsV(container, pairs) {
  container.replaceChildren();
  if (!pairs.length) { container.textContent = "No call has finished yet."; return; }
  const max = Math.max(...pairs.map(([, v]) => v));
  const height = 160, width = 420, base = height - 20;
  const step = Math.min(40, (width - 10) / pairs.length);
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  pairs.forEach(([label, value], i) => {
    const h = Math.max(1, (value / max) * (base - 16));
    const x = 5 + i * step;
    svg.append(svgEl("rect", { x, y: base - h, width: step * 0.8, height: h, rx: 2, fill: "#2f5bd3" }));
    const num = svgEl("text", { x: x + step * 0.4, y: base - h - 3, "text-anchor": "middle" });
    num.textContent = String(value);
    const hour = svgEl("text", { x: x + step * 0.4, y: height - 5, "text-anchor": "middle" });
    hour.textContent = label.slice(11, 13) + "h";
    svg.append(num, hour);
  });
  container.append(svg);
}

window.MiniChart = { barsH, barsV };
