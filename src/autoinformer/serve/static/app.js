/* The dashboard: plain JS over the REST API (no framework, no CDN). Everything a user or a
   list supplies is shown with textContent, never parsed as markup. */
"use strict";

const main = document.getElementById("main");
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
let stream = null;
let poller = null;
const WATCH_MS = 2000;  // how often a page whose stream has ended looks at the campaign again

const EXAMPLE = `[campaign]
name = "HOA debt reminder"
region = "RU"
lines = 5
timezone = "Europe/Moscow"

[campaign.window]
days = "mon-fri"
hours = "09:00-20:00"

[campaign.retry]
attempts = 2
interval = "20m"

[[script]]
say = "Good afternoon, {name}. Your debt to the HOA is {BALANCE} roubles."

[backend]
kind = "sim"

[sim]
speed = 60    # 60 times real time: a minute of calls per second
`;

class ApiError extends Error {
  constructor(message, field) { super(message); this.field = field; }
}

async function api(method, url, body, type) {
  const options = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    options.body = body;
    if (type) options.headers["Content-Type"] = type;
  }
  const answer = await fetch(url, options);
  if (answer.status === 401) {
    showLogin();
    throw new ApiError("sign in first", null);
  }
  const json = (answer.headers.get("content-type") || "").includes("json");
  const data = json ? await answer.json() : null;
  if (!answer.ok) throw new ApiError((data && data.error) || answer.statusText, data && data.field);
  return data;
}

function $(id) { return document.getElementById(id); }
function setText(id, text) { $(id).textContent = text; }
function pct(x) { return x === null || x === undefined ? "–" : (100 * x).toFixed(1) + "%"; }
function stopLive() {
  if (stream) { stream.close(); stream = null; }
  if (poller) { clearInterval(poller); poller = null; }
}
function mount(templateId) {
  main.replaceChildren($(templateId).content.cloneNode(true));
}

// --- sign in ---------------------------------------------------------------------------------

function showLogin() {
  stopLive();
  mount("login-tpl");
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    document.cookie = `autoinformer_token=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
    const check = await fetch("/api/campaigns", { credentials: "same-origin" });
    if (check.status === 401) { setText("login-error", "That token is not the server's."); return; }
    route();
  });
}

// --- the campaign list -----------------------------------------------------------------------

async function showList() {
  mount("list-tpl");
  $("campaign-text").value = EXAMPLE;
  $("create-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    setText("create-error", "");
    try {
      const made = await api("POST", "/api/campaigns", $("campaign-text").value, "application/toml");
      location.hash = `#/c/${made.id}`;
    } catch (error) {
      setText("create-error", error.field ? `${error.message}\n(key: ${error.field})` : error.message);
    }
  });
  const refresh = async () => {
    const campaigns = await api("GET", "/api/campaigns");
    const rows = campaigns.map((c) => {
      const tr = document.createElement("tr");
      tr.className = "clickable";
      tr.dataset.id = c.id;
      const done = c.contacts.done + c.contacts.exhausted + c.contacts.cancelled + c.contacts.skipped;
      const total = Object.values(c.contacts).reduce((a, b) => a + b, 0);
      const state = document.createElement("span");
      state.className = `state ${c.state}`;
      state.textContent = c.state;
      const cells = [c.name, state, c.attempts, `${done} / ${total}`, `${c.lines_busy} / ${c.lines}`,
        pct(c.abandon_rate)];
      for (const value of cells) {
        const td = document.createElement("td");
        if (value instanceof Node) td.append(value); else td.textContent = String(value);
        tr.append(td);
      }
      tr.addEventListener("click", () => { location.hash = `#/c/${c.id}`; });
      return tr;
    });
    $("campaign-rows").replaceChildren(...rows);
    $("no-campaigns").hidden = campaigns.length > 0;
  };
  await refresh();
  poller = setInterval(() => refresh().catch(() => {}), 2000);
}

// --- one campaign ----------------------------------------------------------------------------

function render(c) {
  setText("c-name", c.name);
  const state = $("c-state");
  state.textContent = c.ending ? `${c.state} (ending calls)` : c.state;
  state.className = `state ${c.state}`;
  setText("c-window", `Calling hours (callee-local): ${c.window} · ${c.backend}` +
    (c.speed ? ` at ${c.speed}× real time` : ""));
  setText("c-error", c.error || "");
  $("btn-start").disabled = !["draft", "stopped", "finished", "failed"].includes(c.state);
  $("btn-pause").disabled = c.state !== "running";
  $("btn-resume").disabled = c.state !== "paused";
  $("btn-stop").disabled = !["running", "paused"].includes(c.state);
  const k = c.contacts;
  setText("c-attempts", c.attempts);
  setText("c-done", k.done + k.exhausted + k.cancelled + k.skipped);
  setText("c-pending", k.pending + k.scheduled + k.in_call);
  setText("c-lines", `${c.lines_busy} / ${c.lines}`);
  setText("c-abandon", pct(c.abandon_rate));
  setText("c-cap", pct(c.abandon_cap));
  const scale = Math.max(c.abandon_cap * 2, c.abandon_rate || 0) || 1;
  $("c-abandon-bar").style.width = `${Math.min(100, (100 * (c.abandon_rate || 0)) / scale)}%`;
  $("c-cap-mark").style.left = `${(100 * c.abandon_cap) / scale}%`;
  $("c-abandon-bar").parentElement.classList.toggle("over", (c.abandon_rate || 0) > c.abandon_cap);
  MiniChart.barsH($("chart-outcomes"), Object.entries(c.outcomes));
  MiniChart.barsV($("chart-hours"), c.calls_per_hour.map((h) => [h.hour, h.attempts]));
  $("c-contacts").replaceChildren(...Object.entries(k).map(([name, n]) => row(name.replace("_", " "), n)));
  $("c-operators").replaceChildren(...c.operators.map((o) => row(`${o.id} (${o.queue})`,
    `${o.state} · ${o.calls} calls`)));
  $("no-operators").hidden = c.operators.length > 0;
  setText("c-variables", c.variables.length ? c.variables.join(", ") : "no other column");
}

function row(label, value) {
  const tr = document.createElement("tr");
  const a = document.createElement("td");
  const b = document.createElement("td");
  a.textContent = label;
  b.textContent = String(value);
  tr.append(a, b);
  return tr;
}

function listen(id) {
  if (stream) stream.close();
  if (poller) { clearInterval(poller); poller = null; }
  const mine = new EventSource(`/api/campaigns/${encodeURIComponent(id)}/events`);
  stream = mine;
  mine.addEventListener("status", (event) => render(JSON.parse(event.data)));
  mine.addEventListener("end", () => {
    mine.close();
    if (stream !== mine) return;  // a newer stream has taken over: leave it be
    stream = null;
    watch(id);
  });
}

// A stream ends with its run, but the campaign may be fed a list and started again from
// anywhere (another page, a script over the API): look now and then, and listen again as soon
// as it runs, so the counters never stay at the last run's figures.
function watch(id) {
  if (poller) clearInterval(poller);
  const mine = setInterval(async () => {
    try {
      const c = await api("GET", `/api/campaigns/${encodeURIComponent(id)}`);
      if (poller !== mine) return;  // the page moved on while we asked
      render(c);
      if (["running", "paused"].includes(c.state) || c.ending) listen(id);
    } catch (error) { /* a failed look is retried by the next one */ }
  }, WATCH_MS);
  poller = mine;
}

function showReport(report) {
  $("report").hidden = false;
  setText("report-summary", `${report.rows} rows: ${report.valid} valid, ${report.invalid} invalid, ` +
    `${report.duplicates} duplicate; ${report.added} added` +
    (report.already_present ? `, ${report.already_present} already in the campaign` : "") + ".");
  $("report-table").hidden = report.errors.length === 0;
  $("report-rows").replaceChildren(...report.errors.map((e) => {
    const tr = document.createElement("tr");
    for (const value of [e.row, e.column, e.value, e.reason]) {
      const td = document.createElement("td");
      td.textContent = value === null ? "" : String(value);
      tr.append(td);
    }
    return tr;
  }));
}

function listType(name) {
  const lower = name.toLowerCase();
  if (lower.endsWith(".xlsx")) return XLSX;
  if (lower.endsWith(".csv")) return "text/csv";
  if (lower.endsWith(".tsv")) return "text/tab-separated-values";
  return "text/plain";
}

async function showCampaign(id) {
  mount("campaign-tpl");
  const base = `/api/campaigns/${encodeURIComponent(id)}`;
  $("template-link").href = `${base}/template.xlsx`;
  $("records-csv").href = `${base}/records.csv`;
  $("records-xlsx").href = `${base}/records.xlsx`;
  for (const action of ["start", "pause", "resume", "stop"]) {
    $(`btn-${action}`).addEventListener("click", async () => {
      setText("c-error", "");
      try {
        render(await api("POST", `${base}/${action}`));
        if (!stream) listen(id);
      } catch (error) { setText("c-error", error.message); }
    });
  }
  const upload = async (body, type) => {
    setText("c-error", "");
    try {
      showReport(await api("POST", `${base}/contacts`, body, type));
      render(await api("GET", base));
    } catch (error) {
      $("report").hidden = true;
      setText("c-error", error.field ? `${error.message}\n(key: ${error.field})` : error.message);
    }
  };
  $("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const file = $("list-file").files[0];
    if (file) upload(file, listType(file.name));
  });
  $("paste-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if ($("paste").value.trim()) upload($("paste").value, "text/plain");
  });
  render(await api("GET", base));
  listen(id);
}

// --- routing ---------------------------------------------------------------------------------

async function route() {
  stopLive();
  const match = location.hash.match(/^#\/c\/([^/]+)$/);
  try {
    if (match) await showCampaign(decodeURIComponent(match[1]));
    else await showList();
  } catch (error) {
    if (!(error instanceof ApiError && error.message === "sign in first")) {
      main.textContent = error.message;
    }
  }
}

window.addEventListener("hashchange", route);
route();
