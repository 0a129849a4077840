// The analysts' dashboard: a client of the public API like any script. The key lives in sessionStorage (this tab
// only), travels in the X-Api-Key header and never in a URL; the time axes live in the page's URL so a view can be shared.
const KEY = 'computeledger.apiKey';
const POLL_MS = 10000;
const PAGE = 20; // lineage entries per page: a screenful, and most month figures take more than one
const $ = (selector, root = document) => root.querySelector(selector);

// ---------- formatting for people ----------
const compact = (value, currency) => {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const options = { notation: 'compact', maximumFractionDigits: 1, minimumFractionDigits: Math.abs(value) >= 1000 ? 1 : 0 };
  if (currency) Object.assign(options, { style: 'currency', currency });
  return new Intl.NumberFormat('en-US', options).format(value);
};
const amountOf = (m) => (m === null || m === undefined ? null : typeof m === 'number' ? m : Number(m.amount));
const currencyOf = (m, fallback = 'USD') => (m && typeof m === 'object' && m.currency) || fallback;
export const money = (m, currency) => compact(amountOf(m), currency ?? currencyOf(m));
const exact = (m) => (m === null || m === undefined ? '—'
  : new Intl.NumberFormat('en-US', { style: 'currency', currency: currencyOf(m), maximumFractionDigits: 2 }).format(amountOf(m)));
const hours = (h) => `${compact(Number(h))} chip-hours`;
const percent = (f) => (f === null || f === undefined ? '—' : new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 }).format(f));
const plain = (n, digits = 2) => (n === null || n === undefined ? '—' : new Intl.NumberFormat('en-US', { maximumFractionDigits: digits }).format(n));
const monthName = (ym) => new Date(`${ym}-01T00:00:00Z`).toLocaleDateString('en-US', { month: 'short', year: 'numeric', timeZone: 'UTC' });
const day = (iso) => (iso ? String(iso).slice(0, 10) : '—');
const toDateInput = (d) => d.toISOString().slice(0, 10);

// ---------- state: axes in the URL, key in the tab's session ----------
const state = {
  key: sessionStorage.getItem(KEY),
  asOf: null, knownAt: null,
  deal: null, commitments: [], charts: {}, timer: null, knownRange: null, lastFigures: null,
};

function readUrl() {
  const params = new URLSearchParams(location.search);
  const date = (v) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : null);
  state.asOf = date(params.get('asOf'));
  state.knownAt = date(params.get('knownAt'));
  state.deal = params.get('deal');
}

function writeUrl() {
  const params = new URLSearchParams();
  if (state.asOf) params.set('asOf', state.asOf);
  if (state.knownAt) params.set('knownAt', state.knownAt);
  if (state.deal) params.set('deal', state.deal);
  const query = params.toString();
  history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}`);
}

// ---------- the API ----------
class ApiError extends Error {
  constructor(kind, message, status) { super(message); this.kind = kind; this.status = status; }
}

async function api(path, params = {}, { axes = true } = {}) {
  const query = new URLSearchParams();
  if (axes) {
    if (state.asOf) query.set('asOf', state.asOf);
    if (state.knownAt) query.set('knownAt', state.knownAt);
  }
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') query.set(k, v);
  const url = `${path}${query.toString() ? `?${query}` : ''}`;
  let response;
  try {
    response = await fetch(url, { headers: { 'X-Api-Key': state.key ?? '', Accept: 'application/json' }, cache: 'no-store' });
  } catch {
    throw new ApiError('offline', 'The ledger API is not answering. Check that the ledger is running; the page retries by itself.');
  }
  showOffline(null);
  if (response.ok) return response.json();
  let detail = '';
  try { detail = (await response.json()).detail ?? ''; } catch { /* a body that is not a problem */ }
  if (response.status === 401) throw new ApiError('key', 'That API key is not known to this ledger. Check it and sign in again.', 401);
  if (response.status === 403) throw new ApiError('role', 'This key may not read the dashboard: use an analyst or admin key.', 403);
  if (response.status === 404) throw new ApiError('missing', detail || 'Not found at these axes.', 404);
  if (response.status >= 500) throw new ApiError('offline', 'The ledger API is unavailable for a moment (it answered ' + response.status + '). The page retries by itself.', response.status);
  throw new ApiError('client', detail || `The ledger refused the request (${response.status}).`, response.status);
}

function showOffline(message) {
  const banner = $('#offline');
  banner.textContent = message ?? '';
  banner.hidden = !message;
  if (message) $('#lag').textContent = 'Not connected: figures as last shown';
}

// ---------- sign-in ----------
async function signIn(event) {
  event.preventDefault();
  const input = $('#key');
  const message = $('#signin-message');
  message.textContent = '';
  state.key = input.value.trim();
  if (!state.key) { message.textContent = 'Enter an API key.'; return; }
  try {
    await api('/api/commitments', {}, { axes: false });
  } catch (e) {
    state.key = null;
    message.textContent = e.message;
    input.focus();
    return;
  }
  sessionStorage.setItem(KEY, state.key);
  input.value = '';
  await showDashboard();
}

function signOut() {
  sessionStorage.removeItem(KEY);
  state.key = null;
  clearInterval(state.timer);
  state.timer = null;
  Object.values(state.charts).forEach((c) => c.destroy());
  state.charts = {};
  $('#dashboard-view').hidden = true;
  $('#signout').hidden = true;
  $('#lag').hidden = true;
  $('#signin-view').hidden = false;
  $('#key').focus();
}

async function showDashboard() {
  $('#signin-view').hidden = true;
  $('#dashboard-view').hidden = false;
  $('#signout').hidden = false;
  syncAxesControls();
  await refresh();
  clearInterval(state.timer);
  state.timer = setInterval(() => { if (!document.hidden) refresh({ live: true }); }, POLL_MS);
}

// ---------- panels: each has a state line (loading, empty, error) and a body ----------
function panelState(panel, message, kind = 'info') {
  const el = $('.state', panel);
  el.textContent = message ?? '';
  el.classList.toggle('error', kind === 'error');
  panel.dataset.state = message ? kind : 'ready';
}

function failed(panel, error) {
  if (error.kind === 'key') { signOut(); $('#signin-message').textContent = error.message; return; }
  if (error.kind === 'offline') showOffline(error.message);
  panelState(panel, `Could not load this panel: ${error.message}`, 'error');
  $('.tables', panel).replaceChildren();
  const chart = state.charts[panel.id];
  if (chart) { chart.destroy(); delete state.charts[panel.id]; }
}

function table(caption, headers, rows) {
  const t = document.createElement('table');
  const c = t.createCaption();
  c.textContent = caption;
  const head = t.createTHead().insertRow();
  headers.forEach((h) => {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h.label ?? h;
    if (h.num) th.className = 'num';
    head.append(th);
  });
  const body = t.createTBody();
  rows.forEach((cells) => {
    const tr = body.insertRow();
    cells.forEach((cell, i) => {
      const td = tr.insertCell();
      if (headers[i]?.num) td.className = 'num';
      if (cell instanceof Node) td.append(cell); else td.textContent = cell ?? '—';
    });
  });
  return t;
}

function figure(text, label, open) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'figure';
  b.textContent = text;
  b.setAttribute('aria-label', `${label}: ${text}. Show the events behind it`);
  b.addEventListener('click', open);
  return b;
}

function chart(panel, config, summary) {
  const canvas = $('canvas', panel);
  canvas.setAttribute('aria-label', summary);
  const existing = state.charts[panel.id];
  if (existing) existing.destroy();
  if (!window.Chart) return;
  config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
  state.charts[panel.id] = new window.Chart(canvas, config);
}

const palette = ['#1a56db', '#1f6f43', '#d08a00', '#8e3bb5', '#b3261e', '#0e7490', '#6b7280', '#a16207', '#be185d', '#4d7c0f'];

// 1 · deal layout
async function dealsPanel() {
  const panel = $('#panel-deals');
  try {
    const data = await api('/api/deals');
    const deals = data.deals ?? [];
    if (deals.length === 0) { panelState(panel, 'No deals are recorded at these axes.'); $('.tables', panel).replaceChildren(); chart(panel, { type: 'bar', data: { labels: [], datasets: [] } }, 'No deals'); return; }
    panelState(panel, null);
    const label = (d) => `${d.investor} → ${d.partner}`;
    const firm = (d) => amountOf(d.upfront) + amountOf(d.released);
    const declined = (d) => String(d.status).toLowerCase() === 'declined';
    const billions = (v) => v / 1e9;
    chart(panel, {
      type: 'bar',
      data: {
        labels: deals.map((d) => (declined(d) ? `${label(d)} (declined)` : label(d))),
        datasets: [
          { label: 'Firm (upfront + released)', data: deals.map((d) => (declined(d) ? 0 : billions(firm(d)))), backgroundColor: '#1f6f43' },
          { label: 'Eligible', data: deals.map((d) => (declined(d) ? 0 : billions(amountOf(d.eligible)))), backgroundColor: '#d08a00' },
          { label: 'Locked', data: deals.map((d) => (declined(d) ? 0 : billions(amountOf(d.locked)))), backgroundColor: '#8a94a6' },
          { label: 'Declined offer', data: deals.map((d) => (declined(d) ? billions(amountOf(d.headline)) : 0)), backgroundColor: '#e3e6eb', borderColor: '#8a94a6', borderWidth: 1 },
        ],
      },
      options: {
        indexAxis: 'y',
        scales: { x: { stacked: true, title: { display: true, text: 'Billions (deal currency)' } }, y: { stacked: true } },
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${compact(c.raw * 1e9, currencyOf(deals[c.dataIndex].headline))}` } } },
      },
    }, `Deal layout: ${deals.map((d) => `${label(d)} ${money(d.headline)} headline`).join('; ')}`);
    const rows = deals.map((d) => [
      `${label(d)} (${d.provider})`,
      Object.assign(document.createElement('span'), { textContent: String(d.status).toLowerCase(), className: declined(d) ? 'status-declined' : '' }),
      // A declined offer keeps its headline; nothing of it is firm, eligible or locked.
      money(d.headline), ...(declined(d) ? ['—', '—', '—', '—'] : [money(firm(d), currencyOf(d.headline)), money(d.eligible), money(d.locked), percent(d.firmShare)]),
      d.roundTrip === null || d.roundTrip === undefined ? '—' : percent(d.roundTrip),
    ]);
    const byInvestor = (data.byInvestor ?? []).map((i) => [i.investor, money(i.headline), money(i.firm), money(i.contingent), money(i.declined)]);
    $('.tables', panel).replaceChildren(
      table('Deals', ['Deal', 'Status', { label: 'Headline', num: true }, { label: 'Firm', num: true }, { label: 'Eligible', num: true },
        { label: 'Locked', num: true }, { label: 'Firm share', num: true }, { label: 'Round trip', num: true }], rows),
      table('By investor', ['Investor', { label: 'Headline', num: true }, { label: 'Firm', num: true }, { label: 'Contingent', num: true },
        { label: 'Declined', num: true }], byInvestor));
  } catch (e) { failed(panel, e); }
}

// the deal pickers of panels 2 and 3 share the commitment list
async function loadCommitments() {
  const list = await api('/api/commitments');
  state.commitments = list;
  if (!state.deal || !list.some((c) => c.commitmentId === state.deal)) {
    state.deal = (list.find((c) => c.status === 'Signed' || c.status === 'signed') ?? list[0])?.commitmentId ?? null;
  }
  for (const select of document.querySelectorAll('.deal-pick')) {
    select.replaceChildren(...list.map((c) => new Option(`${c.investor} → ${c.partner} (${c.commitmentId})`, c.commitmentId, false, c.commitmentId === state.deal)));
  }
}

// 2 · tranches and milestones
async function tranchesPanel() {
  const panel = $('#panel-tranches');
  if (!state.deal) { panelState(panel, 'No deals are recorded at these axes.'); $('.tables', panel).replaceChildren(); return; }
  try {
    const e = await api(`/api/commitments/${encodeURIComponent(state.deal)}/eligibility`);
    if (!e.tranches?.length) { panelState(panel, 'This deal has no tranches.'); $('.tables', panel).replaceChildren(); return; }
    panelState(panel, null);
    const rows = e.tranches.map((t) => {
      const waiting = t.milestones.filter((m) => !m.achievedOn);
      return [
        t.trancheId, money(t.amount),
        figure(String(t.status).toLowerCase(), `Status of tranche ${t.trancheId}`, () => lineageOfTranche(e.commitmentId, t.trancheId)),
        day(t.releasedOn),
        t.milestones.map((m) => `${m.description}${m.achievedOn ? ` ✓ ${day(m.achievedOn)}` : ''}`).join('; ') || '—',
        waiting.length ? waiting.map((m) => m.description).join('; ') : 'nothing',
      ];
    });
    $('.tables', panel).replaceChildren(
      table(`${e.investor} → ${e.partner}: ${money(e.headline)} headline, ${money(e.released)} released, ${money(e.eligible)} eligible, ${money(e.locked)} locked`,
        ['Tranche', { label: 'Amount', num: true }, 'Status', 'Released', 'Milestones', 'Waits on'], rows));
  } catch (err) { failed(panel, err); }
}

// 3 · drawdown burn-down
async function burnPanel() {
  const panel = $('#panel-burn');
  if (!state.deal) { panelState(panel, 'No deals are recorded at these axes.'); return; }
  try {
    const d = await api(`/api/commitments/${encodeURIComponent(state.deal)}/drawdown`);
    const currency = currencyOf(d.committed);
    const committed = amountOf(d.committed);
    const months = d.byMonth ?? [];
    if (months.length === 0) panelState(panel, 'No consumption is recorded against this commitment at these axes.');
    else panelState(panel, null);
    const labels = months.map((m) => m.month);
    let running = 0;
    const cumulative = months.map((m) => (running += amountOf(m.consumed)));
    const termMonths = [];
    if (d.termStart && d.termEnd) {
      for (let t = new Date(`${d.termStart.slice(0, 7)}-01T00:00:00Z`); t <= new Date(`${d.termEnd}T00:00:00Z`); t.setUTCMonth(t.getUTCMonth() + 1)) termMonths.push(t.toISOString().slice(0, 7));
    }
    const axis = [...new Set([...termMonths, ...labels])].sort();
    const consumedByMonth = Object.fromEntries(labels.map((m, i) => [m, cumulative[i]]));
    const projected = amountOf(d.projectedConsumption);
    const marks = [50, 75, 90, 100];
    chart(panel, {
      type: 'line',
      data: {
        labels: axis.map(monthName),
        datasets: [
          { label: 'Consumed (cumulative)', data: axis.map((m) => consumedByMonth[m] ?? null), borderColor: '#1a56db', backgroundColor: '#1a56db', spanGaps: true },
          { label: 'Straight-line projection', data: axis.map((_, i) => (axis.length > 1 ? (projected * i) / (axis.length - 1) : projected)), borderColor: '#d08a00', borderDash: [6, 4], pointRadius: 0 },
          { label: 'Committed', data: axis.map(() => committed), borderColor: '#b3261e', pointRadius: 0 },
          ...marks.slice(0, 3).map((p) => ({ label: `${p}% mark`, data: axis.map(() => (committed * p) / 100), borderColor: '#c2c7d0', borderWidth: 1, pointRadius: 0 })),
        ],
      },
      options: { scales: { y: { title: { display: true, text: currency }, ticks: { callback: (v) => compact(v, currency) } } },
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${compact(c.raw, currency)}` } } } },
    }, `Drawdown: ${money(d.consumed)} consumed of ${money(d.committed)} committed; projected shortfall ${money(d.projectedShortfall)}`);
    const reached = marks.filter((p) => committed > 0 && amountOf(d.consumed) >= (committed * p) / 100);
    $('.tables', panel).replaceChildren(table('Drawdown', ['Committed', 'Consumed', 'Remaining', 'Projected by term end', 'Projected shortfall', 'Marks reached', 'Term'].map((l, i) => (i < 5 ? { label: l, num: true } : l)),
      [[money(d.committed), money(d.consumed), money(d.remaining), money(d.projectedConsumption), money(d.projectedShortfall),
        reached.length ? reached.map((p) => `${p}%`).join(', ') : 'none yet', `${day(d.termStart)} – ${day(d.termEnd)}`]]));
  } catch (err) {
    if (err.kind === 'missing') { panelState(panel, `No drawdown for this deal: ${err.message}`); $('.tables', panel).replaceChildren(); return; }
    failed(panel, err);
  }
}

// 4 · spend by chip per month, and chip economics
async function chipsPanel(spend) {
  const panel = $('#panel-chips');
  try {
    const rows = spend.rows;
    const months = [...new Set(rows.map((r) => r.month))].sort();
    const series = [...new Set(rows.map((r) => `${r.chip}|${r.provider}`))].sort();
    if (rows.length === 0) panelState(panel, 'No usage is recorded at these axes.'); else panelState(panel, null);
    const currency = currencyOf(rows[0]?.spend);
    const cell = Object.fromEntries(rows.map((r) => [`${r.chip}|${r.provider}|${r.month}`, r]));
    chart(panel, {
      type: 'bar',
      data: {
        labels: months.map(monthName),
        datasets: series.map((s, i) => {
          const [chip, provider] = s.split('|');
          return { label: `${chip} (${provider})`, data: months.map((m) => amountOf(cell[`${s}|${m}`]?.spend) ?? 0), backgroundColor: palette[i % palette.length] };
        }),
      },
      options: {
        scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: `Spend (${currency})` }, ticks: { callback: (v) => compact(v, currency) } } },
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${compact(c.raw, currency)}` } } },
        onClick: (_, elements) => {
          const el = elements[0];
          if (!el) return;
          const [chip, provider] = series[el.datasetIndex].split('|');
          lineageOfSpend(provider, chip, months[el.index]);
        },
      },
    }, `Spend by chip per month, ${months.length} months, ${series.length} chips`);
    const spendTable = table('Spend by chip per month', ['Month', 'Chip', 'Provider', { label: 'Chip-hours', num: true }, { label: 'Spend', num: true }],
      rows.slice().reverse().map((r) => [monthName(r.month), r.chip, r.provider, hours(r.chipHours),
        figure(money(r.spend), `Spend of ${r.chip} at ${r.provider} in ${monthName(r.month)}`, () => lineageOfSpend(r.provider, r.chip, r.month))]));
    const details = document.createElement('details');
    details.append(Object.assign(document.createElement('summary'), { textContent: 'Spend as a table' }), spendTable);
    const parts = [details];
    try {
      const economics = await api('/api/economics/chips');
      const list = economics.rows ?? [];
      parts.unshift(list.length === 0
        ? Object.assign(document.createElement('p'), { textContent: 'No chip economics at these axes.' })
        : table('Chip economics', ['Chip', 'Provider', { label: 'Chip-hours', num: true }, { label: 'Spend', num: true }, { label: 'Price per chip-hour', num: true },
          { label: 'Cost per H100-eq. hour', num: true }, { label: 'Saving vs H100', num: true }, { label: 'Measured per 1M tokens', num: true },
          { label: 'List per 1M tokens', num: true }, { label: 'Energy', num: true }],
        list.map((r) => [r.chip, r.provider ?? 'all', hours(r.chipHours), money(r.spend), exact(r.pricePerChipHour), exact(r.costPerH100EquivalentHour),
          percent(r.savingVsH100), exact(r.costPer1MTokens), exact(r.listCostPer1MTokens), r.energyKWh === null || r.energyKWh === undefined ? '—' : `${compact(Number(r.energyKWh))} kWh`])));
    } catch (err) {
      if (err.kind === 'key' || err.kind === 'offline') throw err;
      parts.unshift(Object.assign(document.createElement('p'), { className: 'state error', textContent: `Chip economics unavailable: ${err.message}` }));
    }
    $('.tables', panel).replaceChildren(...parts);
  } catch (err) { failed(panel, err); }
}

// 5 · provider revenue and backlog per month, growth per year
async function revenuePanel() {
  const panel = $('#panel-revenue');
  try {
    const data = await api('/api/revenue/providers');
    const rows = data.rows;
    if (rows.length === 0) panelState(panel, 'No revenue is recorded at these axes.'); else panelState(panel, null);
    const months = [...new Set(rows.map((r) => r.month))].sort();
    const providers = [...new Set(rows.map((r) => r.provider))].sort();
    const currency = currencyOf(rows[0]?.revenue);
    const cell = Object.fromEntries(rows.map((r) => [`${r.provider}|${r.month}`, r]));
    chart(panel, {
      type: 'bar',
      data: {
        labels: months.map(monthName),
        datasets: [
          ...providers.map((p, i) => ({ type: 'bar', label: `${p} revenue`, data: months.map((m) => amountOf(cell[`${p}|${m}`]?.revenue) ?? 0), backgroundColor: palette[i % palette.length], yAxisID: 'y' })),
          ...providers.map((p, i) => ({ type: 'line', label: `${p} backlog`, data: months.map((m) => amountOf(cell[`${p}|${m}`]?.backlog) ?? null), borderColor: palette[i % palette.length], borderDash: [5, 4], yAxisID: 'backlog', pointRadius: 0 })),
        ],
      },
      options: {
        scales: {
          y: { title: { display: true, text: `Revenue (${currency})` }, ticks: { callback: (v) => compact(v, currency) } },
          backlog: { position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: `Backlog (${currency})` }, ticks: { callback: (v) => compact(v, currency) } },
        },
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${compact(c.raw, currency)}` } } },
        onClick: (_, elements) => {
          const el = elements[0];
          if (!el || el.datasetIndex >= providers.length) return;
          lineageOfRevenue(providers[el.datasetIndex], months[el.index]);
        },
      },
    }, `Provider revenue and backlog per month for ${providers.join(', ')}`);
    const parts = [];
    try {
      const yearly = await api('/api/revenue/providers/yearly');
      const list = Array.isArray(yearly) ? yearly : yearly.rows ?? yearly.years ?? [];
      parts.push(list.length === 0
        ? Object.assign(document.createElement('p'), { textContent: 'No yearly revenue at these axes.' })
        : table('Growth per year', ['Provider', 'Year', { label: 'Revenue', num: true }, { label: 'Backlog at year end', num: true },
          { label: 'Growth year on year', num: true }, { label: 'Share', num: true }],
        list.map((r) => [r.provider, String(r.year), money(r.revenue), money(r.backlog), percent(r.growthYoY), percent(r.share)])));
    } catch (err) {
      if (err.kind === 'key' || err.kind === 'offline') throw err;
      parts.push(Object.assign(document.createElement('p'), { className: 'state error', textContent: `Growth per year unavailable: ${err.message}` }));
    }
    const monthly = table('Revenue and backlog per month', ['Month', 'Provider', { label: 'Revenue', num: true }, { label: 'Backlog', num: true }, { label: 'Active deals', num: true }],
      rows.slice().reverse().map((r) => [monthName(r.month), r.provider,
        figure(money(r.revenue), `Revenue of ${r.provider} in ${monthName(r.month)}`, () => lineageOfRevenue(r.provider, r.month)), money(r.backlog), String(r.activeCommitments)]));
    const details = document.createElement('details');
    details.append(Object.assign(document.createElement('summary'), { textContent: 'Revenue as a table' }), monthly);
    parts.push(details);
    $('.tables', panel).replaceChildren(...parts);
  } catch (err) { failed(panel, err); }
}

// 6 · restatements between two known dates
async function restatementsPanel() {
  const panel = $('#panel-restatements');
  const from = $('#knownFrom').value;
  const to = $('#knownTo').value;
  if (!from) { panelState(panel, 'Choose the earlier known date to compare.'); return; }
  try {
    const data = await api('/api/restatements', { knownFrom: from, knownTo: to || null }, { axes: false });
    const list = data.restatements;
    if (list.length === 0) { panelState(panel, `Nothing reported by ${from} changed by ${to || 'now'}.`); $('.tables', panel).replaceChildren(); return; }
    panelState(panel, null);
    // The largest changes first; a long list is cut to what a person reads, and says so.
    const shown = list.slice().sort((a, b) => Math.abs(amountOf(b.new) - amountOf(b.old)) - Math.abs(amountOf(a.new) - amountOf(a.old))).slice(0, 25);
    $('.tables', panel).replaceChildren(table(`${list.length} figures restated between ${from} and ${to || 'now'}${list.length > shown.length ? `; the ${shown.length} largest changes` : ''}`,
      ['Figure', 'Month', 'Provider', 'Chip or deal', { label: 'Was', num: true }, { label: 'Now', num: true }, { label: 'Change', num: true }, { label: 'Events', num: true }],
      shown.map((r) => {
        const open = r.figure === 'providerRevenue' ? () => lineageOfRevenue(r.provider, r.month, to || null)
          : r.figure === 'chipSpend' ? () => lineageOfSpend(r.provider, r.chip, r.month, to || null) : null;
        const change = amountOf(r.new) - amountOf(r.old);
        const name = { chipSpend: 'chip spend', providerRevenue: 'provider revenue' }[r.figure] ?? 'drawdown';
        return [name, monthName(r.month), r.provider ?? '—', r.chip ?? r.commitmentId ?? '—', money(r.old), open ? figure(money(r.new), `${r.figure} of ${monthName(r.month)}`, open) : money(r.new),
          `${change >= 0 ? '+' : ''}${compact(change, r.currency)}`, String(r.eventCount)];
      })));
  } catch (err) { failed(panel, err); }
}

// ---------- lineage, one click away ----------
const dialog = () => $('#lineage');
let lineageNext = null;

async function openLineage(title, load) {
  const d = dialog();
  $('#lineage-title').textContent = title;
  $('#lineage-summary').textContent = '';
  $('#lineage-table').replaceChildren();
  $('#lineage-more').hidden = true;
  $('.state', d).textContent = 'Loading the events behind this figure…';
  if (!d.open) d.showModal();
  lineageNext = load;
  await lineageNext();
}

function lineageOfTranche(id, trancheId) {
  return openLineage(`Why tranche ${trancheId} of ${id} has its status`, async () => {
    try {
      const x = await api(`/api/explain/tranches/${encodeURIComponent(id)}/${encodeURIComponent(trancheId)}`);
      $('.state', dialog()).textContent = x.events.length ? '' : 'No events at these axes.';
      $('#lineage-summary').textContent = `${x.figure}: ${String(x.value).toLowerCase()} — ${x.events.length} events`;
      $('#lineage-table').replaceChildren(table('Events, in the order recorded', ['#', 'Event', 'Valid (business date)', 'Known (recorded)'],
        x.events.map((e) => [String(e.sequence), e.type.replaceAll('_', ' '), day(e.validTime), e.knownTime.replace('T', ' ').slice(0, 19)])));
    } catch (err) { lineageFailed(err); }
  });
}

function usageLineage(title, path, knownAt) {
  let after = null;
  let rows = [];
  const load = async () => {
    try {
      const page = await api(path, { limit: PAGE, after, ...(knownAt ? { knownAt } : {}) });
      rows = rows.concat(page.records);
      $('.state', dialog()).textContent = rows.length ? '' : 'No usage at these axes.';
      $('#lineage-summary').textContent = `${page.figure}: ${exact(page.value)} from ${plain(page.recordCount, 0)} entries in ${plain(page.eventCount, 0)} events; showing ${rows.length}.`;
      $('#lineage-table').replaceChildren(table('Entries, in the order recorded', ['Usage', 'Entry', 'Chip', 'Deal', 'Valid (used)', 'Known (recorded)', { label: 'Chip-hours', num: true }, { label: 'Amount', num: true }],
        rows.map((r) => [r.usageId, r.type, r.chip, r.commitmentId, r.validTime.replace('T', ' ').slice(0, 16), r.knownTime.replace('T', ' ').slice(0, 16), plain(Number(r.chipHours)), exact(r.amount)])));
      after = page.next;
      $('#lineage-more').hidden = !page.next;
    } catch (err) { lineageFailed(err); }
  };
  return openLineage(title, load);
}

const lineageOfSpend = (provider, chip, month, knownAt) => usageLineage(`Spend of ${chip} at ${provider}, ${monthName(month)}`,
  `/api/explain/spend/${encodeURIComponent(provider)}/${encodeURIComponent(chip)}/${month}`, knownAt);
const lineageOfRevenue = (provider, month, knownAt) => usageLineage(`Revenue of ${provider}, ${monthName(month)}`,
  `/api/explain/revenue/${encodeURIComponent(provider)}/${month}`, knownAt);

function lineageFailed(err) {
  const s = $('.state', dialog());
  s.textContent = `Could not load the lineage: ${err.message}`;
  s.classList.add('error');
}

// ---------- time travel ----------
function syncAxesControls() {
  $('#asOf').value = state.asOf ?? '';
  $('#knownAt').value = state.knownAt ?? '';
  const slider = $('#knownSlider');
  if (state.knownRange) {
    const { min, days } = state.knownRange;
    slider.max = String(days);
    const at = state.knownAt ? Math.round((Date.parse(`${state.knownAt}T00:00:00Z`) - min) / 86400000) : days;
    slider.value = String(Math.max(0, Math.min(days, at)));
  }
  $('#knownSliderText').textContent = state.knownAt ? `known at end of ${state.knownAt}` : 'now';
  slider.setAttribute('aria-valuetext', state.knownAt ? `known at end of ${state.knownAt}` : 'now');
}

async function axesChanged() {
  writeUrl();
  syncAxesControls();
  await refresh();
}

function knownRangeFrom(spend) {
  const months = spend.rows.map((r) => r.month).sort();
  const first = months[0] ? Date.parse(`${months[0]}-01T00:00:00Z`) : Date.now() - 365 * 86400000;
  const today = Date.parse(`${toDateInput(new Date())}T00:00:00Z`);
  return { min: first, days: Math.max(1, Math.round((today - first) / 86400000)) };
}

// ---------- refresh: every panel on both axes ----------
let refreshing = null;
async function refresh({ live = false } = {}) {
  if (live && state.knownAt) return; // a view of the past does not move; only "now" is live
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      if (!live) document.querySelectorAll('.panel').forEach((p) => { if (!p.dataset.state) panelState(p, 'Loading…'); });
      let spend;
      try {
        await loadCommitments();
        spend = await api('/api/spend/chips');
      } catch (err) {
        document.querySelectorAll('.panel').forEach((p) => failed(p, err));
        return;
      }
      if (!state.knownRange) { state.knownRange = knownRangeFrom(spend); syncAxesControls(); }
      showLag(spend.lag);
      if (!$('#knownFrom').value) defaultRestatementDates();
      await Promise.all([dealsPanel(), tranchesPanel(), burnPanel(), chipsPanel(spend), revenuePanel(), restatementsPanel()]);
      document.body.dataset.refreshed = String(Date.now());
    } finally { refreshing = null; }
  })();
  return refreshing;
}

function showLag(lag) {
  const el = $('#lag');
  el.hidden = false;
  const behind = Math.max(0, lag.highWaterMark - lag.lastProcessedSequence);
  el.textContent = behind === 0
    ? `Live · figures up to date (event ${plain(lag.highWaterMark, 0)})`
    : `Live · projections ${plain(behind, 0)} events (${plain(lag.secondsBehind, 1)} s) behind`;
}

function defaultRestatementDates() {
  const { min, days } = state.knownRange;
  $('#knownFrom').value = toDateInput(new Date(min + Math.floor(days / 2) * 86400000));
}

// ---------- wiring ----------
function wire() {
  $('#signin').addEventListener('submit', signIn);
  $('#signout').addEventListener('click', signOut);
  $('#asOf').addEventListener('change', (e) => { state.asOf = e.target.value || null; axesChanged(); });
  $('#knownAt').addEventListener('change', (e) => { state.knownAt = e.target.value || null; axesChanged(); });
  const slider = $('#knownSlider');
  slider.addEventListener('input', () => {
    const { min, days } = state.knownRange ?? { min: Date.now(), days: 0 };
    const v = Number(slider.value);
    state.knownAt = v >= days ? null : toDateInput(new Date(min + v * 86400000));
    $('#knownAt').value = state.knownAt ?? '';
    $('#knownSliderText').textContent = state.knownAt ? `known at end of ${state.knownAt}` : 'now';
  });
  slider.addEventListener('change', axesChanged);
  $('#now').addEventListener('click', () => { state.asOf = null; state.knownAt = null; axesChanged(); });
  for (const select of document.querySelectorAll('.deal-pick')) {
    select.addEventListener('change', async (e) => {
      state.deal = e.target.value;
      writeUrl();
      document.querySelectorAll('.deal-pick').forEach((s) => { s.value = state.deal; });
      await Promise.all([tranchesPanel(), burnPanel()]);
    });
  }
  $('#restatements-form').addEventListener('submit', (e) => { e.preventDefault(); restatementsPanel(); });
  $('#lineage-more').addEventListener('click', () => lineageNext && lineageNext());
  window.addEventListener('popstate', () => { readUrl(); axesChanged(); });
}

readUrl();
wire();
if (state.key) showDashboard(); else { $('#signin-view').hidden = false; $('#key').focus(); }
