/**
 * The metrics dashboard: loss, accuracy, learning rate and images per second of the runs the host
 * lists, several overlaid (one colour per run; training solid, validation dashed, per-batch
 * points thin), updated live as the host forwards new metrics lines of a training run. Charts
 * are uPlot on canvas, which redraws 100,000-point series within a frame; redraws are batched to
 * one per animation frame however fast lines arrive. The numbers export as CSV or JSON and the
 * charts as one PNG. Run ids come from folder names and are set as text only.
 */
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { DashboardState } from '../../protocol/protocol';
import { element } from '../shared/dom';
import { connect } from '../shared/host';
import '../shared/page.css';
import { appendBatches, CHARTS, runsCsv, runsJson, runSeries, type ChartSpec, type Line, type RunSeries } from './series';
import './dashboard.css';

/** Run colours, cycled; distinct on dark and light themes. */
const PALETTE = ['#3794ff', '#f0a030', '#4ec9b0', '#e06c9f', '#b180d7', '#d7ba7d', '#89d185', '#f14c4c'];
const CHART_HEIGHT = 220;

const host = connect('dashboard');
let state: DashboardState = host.state({ hidden: [], showBatches: true });
let runs: RunSeries[] = [];

type CheckboxElement = HTMLElement & { checked: boolean };
const title = element('div', { className: 'title', text: 'Training metrics' });
const batches = element('vscode-checkbox', { attributes: { id: 'show-batches', label: 'Per-batch points' } }) as CheckboxElement;
batches.checked = state.showBatches;
const exportButtons = (['csv', 'json', 'png'] as const).map((format) => {
  const button = element('button', { className: 'action', text: `Export ${format.toUpperCase()}`, attributes: { id: `export-${format}` } });
  button.addEventListener('click', () => exportAs(format));
  return button;
});
const toolbar = element('div', { className: 'toolbar' }, [title, element('div', { className: 'spacer' }), batches, ...exportButtons]);
const runList = element('div', { className: 'runs', attributes: { id: 'runs' } });
const message = element('div', { className: 'message muted', attributes: { id: 'message' }, text: 'Looking for runs…' });
const chartGrid = element('div', { className: 'charts', attributes: { id: 'charts' } });
document.body.append(toolbar, runList, message, element('div', { className: 'scroller' }, [chartGrid]));

interface Chart {
  readonly spec: ChartSpec;
  readonly box: HTMLElement;
  plot: uPlot | undefined;
  /** The lines the plot was made for: a change of lines (not of points) makes a new plot. */
  signature: string;
}

const charts: Chart[] = CHARTS.map((spec) => {
  const box = element('div', { className: 'chart', attributes: { id: `chart-${spec.id}`, 'data-chart': spec.id } }, [element('div', { className: 'chart-title', text: spec.title })]);
  chartGrid.append(box);
  return { spec, box, plot: undefined, signature: '' };
});

function save(): void {
  host.setState(state);
}

const shownRuns = (): RunSeries[] => runs.filter((r) => !state.hidden.includes(r.run.id));
const cssVar = (name: string, fallback: string): string => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;

function seriesOptions(line: Line): uPlot.Series {
  const colour = PALETTE[line.run % PALETTE.length]!;
  return {
    label: line.label,
    stroke: line.style === 'batch' ? `${colour}66` : colour,
    width: line.style === 'batch' ? 1 : 2,
    ...(line.style === 'val' ? { dash: [6, 4] } : {}),
    facets: [
      { scale: 'x', auto: true },
      { scale: 'y', auto: true },
    ],
    points: { show: line.style !== 'batch' && line.xs.length < 60, size: 4 },
  };
}

/**
 * uPlot's faceted mode: each line keeps its own x and y columns, so 100,000 per-batch points
 * are never merged with the epoch lines' x values (which would add 100,000 gaps to every other
 * line and cost a merge per update); the canvas line decimates dense points to one per pixel.
 */
function plotData(lines: readonly Line[]): uPlot.AlignedData {
  return [null, ...lines.map((line) => [line.xs, line.ys])] as unknown as uPlot.AlignedData;
}

function makePlot(chart: Chart, lines: readonly Line[]): uPlot {
  const axisColour = cssVar('--vscode-descriptionForeground', '#999');
  const gridColour = cssVar('--vscode-panel-border', '#444');
  const axis = (label: string, values?: uPlot.Axis['values']): uPlot.Axis => ({ label, stroke: axisColour, grid: { stroke: gridColour, width: 1 }, ticks: { stroke: gridColour, width: 1 }, ...(values ? { values } : {}) });
  const options: uPlot.Options = {
    width: Math.max(260, chart.box.clientWidth - 2),
    height: CHART_HEIGHT,
    mode: 2,
    legend: { show: true, live: false },
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: false, auto: true }, y: { auto: true } },
    axes: [
      { ...axis('epoch'), scale: 'x' },
      { ...axis('', chart.spec.percent ? (_u, values) => values.map((v) => `${Math.round(v * 100)}%`) : undefined), scale: 'y' },
    ],
    series: [{}, ...lines.map(seriesOptions)],
  };
  return new uPlot(options, plotData(lines), chart.box);
}

/** Draws every chart from `runs`: new plots where the set of lines changed, new data elsewhere. */
function draw(): void {
  const shown = shownRuns();
  message.hidden = runs.length > 0;
  for (const chart of charts) {
    // Colours follow a run's place among all runs, so hiding one run leaves the others' colours alone.
    const lines = shown.flatMap((run) => chart.spec.lines(run, runs.indexOf(run), state.showBatches));
    const signature = lines.map((l) => l.label).join('\n');
    chart.box.classList.toggle('empty', lines.length === 0);
    if (chart.plot && chart.signature === signature) {
      chart.plot.setData(plotData(lines));
      continue;
    }
    chart.plot?.destroy();
    chart.plot = lines.length > 0 ? makePlot(chart, lines) : undefined;
    chart.signature = signature;
  }
}

let pending = false;
/** One redraw per animation frame, however many metrics lines arrive in it. */
function scheduleDraw(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    draw();
  });
}

function renderRunList(): void {
  runList.replaceChildren(
    ...runs.map(({ run }, i) => {
      const box = element('vscode-checkbox', { className: 'run', attributes: { 'data-run': run.id } }) as CheckboxElement;
      box.checked = !state.hidden.includes(run.id);
      const swatch = element('span', { className: 'swatch' });
      swatch.style.backgroundColor = PALETTE[i % PALETTE.length]!;
      box.append(swatch, element('span', { className: 'run-name', text: `${run.model} · ${run.id}` }), element('span', { className: `status ${run.status}`, text: `${run.status} · ${run.epochs.length} epoch${run.epochs.length === 1 ? '' : 's'}` }));
      box.addEventListener('change', () => {
        state = { ...state, hidden: box.checked ? state.hidden.filter((id) => id !== run.id) : [...state.hidden, run.id] };
        save();
        scheduleDraw();
      });
      return box;
    }),
  );
}

function exportAs(format: 'csv' | 'json' | 'png'): void {
  const shown = shownRuns().map((s) => s.run);
  const name = shown.length === 1 ? shown[0]!.id : 'runs';
  if (format === 'csv') return host.post({ type: 'save', format, name: `${name}.csv`, content: runsCsv(shown) });
  if (format === 'json') return host.post({ type: 'save', format, name: `${name}.json`, content: runsJson(shown) });
  const canvases = charts.flatMap((c) => (c.plot ? [{ title: c.spec.title, canvas: c.plot.ctx.canvas }] : []));
  if (canvases.length === 0) return;
  const ratio = window.devicePixelRatio || 1;
  const heading = Math.round(24 * ratio);
  const width = Math.max(...canvases.map((c) => c.canvas.width));
  const out = document.createElement('canvas');
  out.width = width;
  out.height = canvases.reduce((sum, c) => sum + heading + c.canvas.height, 0);
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = cssVar('--vscode-editor-background', '#1f1f1f');
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = cssVar('--vscode-foreground', '#ccc');
  ctx.font = `${Math.round(14 * ratio)}px sans-serif`;
  let y = 0;
  for (const c of canvases) {
    ctx.fillText(c.title, 8 * ratio, y + heading * 0.75);
    ctx.drawImage(c.canvas, 0, y + heading);
    y += heading + c.canvas.height;
  }
  host.post({ type: 'save', format, name: `${name}.png`, content: out.toDataURL('image/png').replace(/^data:image\/png;base64,/, '') });
}

batches.addEventListener('change', () => {
  state = { ...state, showBatches: batches.checked };
  save();
  scheduleDraw();
});

new ResizeObserver(() => {
  for (const chart of charts) chart.plot?.setSize({ width: Math.max(260, chart.box.clientWidth - 2), height: CHART_HEIGHT });
}).observe(chartGrid);

host.onMessage((event) => {
  if (event.type === 'error') {
    message.hidden = false;
    message.className = 'message error';
    message.textContent = event.message;
    return;
  }
  message.className = 'message muted';
  if (event.type === 'runs') {
    runs = event.runs.map(runSeries);
    message.textContent = 'No training runs yet: train a model and its curves appear here while it trains.';
    renderRunList();
    scheduleDraw();
    return;
  }
  const series = runs.find((r) => r.run.id === event.id);
  if (!series) return;
  const run = series.run;
  appendBatches(series, event.batches);
  series.run = { ...run, status: event.status, epochs: [...run.epochs, ...event.epochs], batches: run.batches.concat(event.batches) };
  if (run.status !== event.status || event.epochs.length > 0) renderRunList();
  scheduleDraw();
});

host.post({ type: 'ready' });
