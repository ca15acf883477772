/**
 * The evaluation page: a run's evaluation on one split. The figures (accuracy, top-k, loss,
 * latency and throughput), the per-class table with macro and weighted averages, and the confusion
 * matrix as a heatmap (counts, or shares of each true class). Clicking a cell asks the host for
 * that cell's images (true → predicted, highest loss first) and lists them with their
 * probabilities; clicking an image asks the host to open the file. Class and file names are
 * untrusted and only ever set as text.
 */
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { EvaluationImage, EvaluationState, EvaluationView } from '../../protocol/protocol';
import { element } from '../shared/dom';
import { connect } from '../shared/host';
import '../shared/page.css';
import './evaluation.css';

/** Images listed at first, and added by each "Show more", so a cell of thousands stays quick. */
const PAGE_SIZE = 200;

const host = connect('evaluation');
let state: EvaluationState = host.state({ normalized: false });
let evaluation: EvaluationView | undefined;

const title = element('div', { className: 'title', text: 'Loading evaluation…', attributes: { id: 'title' } });
const normalized = element('vscode-checkbox', { attributes: { id: 'normalized', label: 'Share of each true class' } }) as HTMLElement & { checked: boolean };
normalized.checked = state.normalized;
const toolbar = element('div', { className: 'toolbar' }, [title, element('div', { className: 'spacer' }), normalized]);
const figures = element('div', { className: 'figures', attributes: { id: 'figures' } });
const matrix = element('div', { className: 'matrix', attributes: { id: 'matrix', role: 'grid' } });
const table = element('table', { className: 'classes', attributes: { id: 'classes' } });
const galleryTitle = element('div', { className: 'gallery-title', attributes: { id: 'gallery-title' }, text: 'Click a cell of the matrix to see its images.' });
const saliency = element('vscode-checkbox', { attributes: { id: 'saliency', label: 'Saliency for the predicted class' } }) as HTMLElement & { checked: boolean };
saliency.checked = state.saliency ?? false;
const gallery = element('div', { className: 'gallery', attributes: { id: 'gallery' } });
const message = element('div', { className: 'message error', attributes: { id: 'message' } });
message.hidden = true;
const left = element('div', { className: 'left' }, [figures, element('h3', { text: 'Confusion matrix (rows: true class, columns: predicted)' }), matrix, element('h3', { text: 'Per class' }), table]);
const right = element('div', { className: 'right' }, [element('div', { className: 'gallery-head' }, [galleryTitle, saliency]), gallery]);
document.body.append(toolbar, message, element('div', { className: 'content' }, [left, right]));

const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;
const fixed = (x: number, digits = 3): string => x.toFixed(digits);

function save(): void {
  host.setState(state);
}

function renderFigures(e: EvaluationView): void {
  const items: [string, string][] = [
    ['Images', e.count.toLocaleString('en-US')],
    ['Accuracy', percent(e.accuracy)],
    ...e.topK.map((t): [string, string] => [`Top-${t.k}`, percent(t.accuracy)]),
    ['Loss', fixed(e.loss)],
    ['Macro F1', fixed(e.macro.f1)],
    ['Weighted F1', fixed(e.weighted.f1)],
    ['Latency (batch 1)', `p50 ${e.speed.latencyMs.p50.toFixed(2)} ms · p95 ${e.speed.latencyMs.p95.toFixed(2)} ms`],
    [`Throughput (batch ${e.speed.throughput.batchSize})`, `${Math.round(e.speed.throughput.imagesPerSecond).toLocaleString('en-US')} images/s`],
    ['Backend', `${e.backend} · ${e.device}`],
  ];
  figures.replaceChildren(...items.map(([label, value]) => element('div', { className: 'figure' }, [element('div', { className: 'muted', text: label }), element('div', { className: 'value', text: value })])));
}

function renderMatrix(e: EvaluationView): void {
  const n = e.classes.length;
  matrix.style.gridTemplateColumns = `minmax(4em, max-content) repeat(${n}, minmax(2.6em, 1fr))`;
  const nodes: HTMLElement[] = [element('div', { className: 'corner', text: 'true \\ predicted' })];
  e.classes.forEach((name, c) => nodes.push(element('div', { className: 'column-label', text: name, attributes: { title: name, 'data-class': String(c) } })));
  e.classes.forEach((trueName, t) => {
    nodes.push(element('div', { className: 'row-label', text: trueName, attributes: { title: trueName } }));
    for (let p = 0; p < n; p++) {
      const count = e.confusion[t]![p]!;
      const share = e.confusionNormalized[t]![p]!;
      const shown = state.normalized ? share : count / Math.max(1, ...e.confusion.flat());
      const cell = element('button', {
        className: `cell${t === p ? ' diagonal' : ''}${state.cell?.label === t && state.cell.predicted === p ? ' selected' : ''}`,
        text: state.normalized ? percent(share) : String(count),
        attributes: { 'data-label': String(t), 'data-predicted': String(p), 'data-count': String(count), title: `${trueName} → ${e.classes[p]}: ${count} (${percent(share)} of ${trueName})` },
      });
      cell.style.backgroundColor = `color-mix(in srgb, var(--vscode-charts-blue, #3794ff) ${Math.round(shown * 85)}%, transparent)`;
      cell.addEventListener('click', () => selectCell(t, p));
      nodes.push(cell);
    }
  });
  matrix.replaceChildren(...nodes);
}

function renderTable(e: EvaluationView): void {
  const row = (cells: string[], className = ''): HTMLTableRowElement => element('tr', { className }, cells.map((text, i) => element(i === 0 ? 'th' : 'td', { text })));
  const head = element('thead', {}, [row(['Class', 'Precision', 'Recall', 'F1', 'Support', 'Predicted'])]);
  const body = element(
    'tbody',
    {},
    e.perClass.map((m, c) => row([e.classes[c]!, fixed(m.precision), fixed(m.recall), fixed(m.f1), String(m.support), String(m.predicted)])),
  );
  const foot = element('tfoot', {}, [
    row(['Macro average', fixed(e.macro.precision), fixed(e.macro.recall), fixed(e.macro.f1), String(e.count), ''], 'average'),
    row(['Weighted average', fixed(e.weighted.precision), fixed(e.weighted.recall), fixed(e.weighted.f1), String(e.count), ''], 'average'),
  ]);
  table.replaceChildren(head, body, foot);
}

function selectCell(label: number, predicted: number): void {
  state = { ...state, cell: { label, predicted } };
  save();
  for (const node of matrix.querySelectorAll('.cell.selected')) node.classList.remove('selected');
  matrix.querySelector(`.cell[data-label="${label}"][data-predicted="${predicted}"]`)?.classList.add('selected');
  galleryTitle.textContent = 'Loading images…';
  gallery.replaceChildren();
  items.clear();
  host.post({ type: 'cell', label, predicted });
}

function imageItem(image: EvaluationImage): HTMLElement {
  const thumb = image.src
    ? element('img', { attributes: { src: image.src, alt: image.name, loading: 'lazy', decoding: 'async', draggable: 'false' } })
    : element('div', { className: 'placeholder', text: 'in archive' });
  const details = element('div', { className: 'details' }, [
    element('div', { className: 'name', text: image.name }),
    element('div', { className: 'muted', text: `predicted p=${fixed(image.probability, 2)} · true p=${fixed(image.labelProbability, 2)}` }),
    element('div', { className: 'muted', text: `loss ${fixed(image.loss, 2)}` }),
  ]);
  const item = element('button', { className: 'image', attributes: { title: image.path, 'data-path': image.path } }, [element('div', { className: 'thumb' }, [thumb]), details]);
  items.set(image.path, item);
  item.addEventListener('click', () => host.post({ type: 'open', path: image.path }));
  return item;
}

/** The gallery's items by path, to lay saliency overlays on. */
const items = new Map<string, HTMLElement>();

/** Asks the host for the saliency of listed images that have no overlay yet. */
function requestSaliency(paths: readonly string[]): void {
  const cell = state.cell;
  if (!state.saliency || !cell || paths.length === 0) return;
  host.post({ type: 'saliency', label: cell.label, predicted: cell.predicted, paths });
}

function showImages(images: readonly EvaluationImage[], from: number): void {
  const to = Math.min(images.length, from + PAGE_SIZE);
  gallery.querySelector('.more')?.remove();
  const shown = images.slice(from, to);
  gallery.append(...shown.map(imageItem));
  requestSaliency(shown.filter((i) => i.src).map((i) => i.path));
  if (to < images.length) {
    const more = element('button', { className: 'more', text: `Show ${Math.min(PAGE_SIZE, images.length - to)} more of ${images.length - to} left` });
    more.addEventListener('click', () => showImages(images, to));
    gallery.append(more);
  }
}

saliency.addEventListener('change', () => {
  state = { ...state, saliency: saliency.checked };
  save();
  for (const overlay of gallery.querySelectorAll('.overlay, .overlay-problem')) overlay.remove();
  if (saliency.checked) requestSaliency([...items.entries()].filter(([, item]) => item.querySelector('img')).map(([p]) => p));
});

normalized.addEventListener('change', () => {
  state = { ...state, normalized: normalized.checked };
  save();
  if (evaluation) renderMatrix(evaluation);
});

host.onMessage((event) => {
  if (event.type === 'error') {
    message.hidden = false;
    message.textContent = event.message;
    return;
  }
  message.hidden = true;
  if (event.type === 'evaluation') {
    evaluation = event.evaluation;
    title.textContent = event.title;
    // A different evaluation keeps no selected cell: its classes are not the old ones.
    if (state.file !== event.file) state = { normalized: state.normalized, ...(state.saliency ? { saliency: true } : {}), file: event.file };
    save();
    renderFigures(evaluation);
    renderMatrix(evaluation);
    renderTable(evaluation);
    const cell = state.cell;
    if (cell && cell.label < evaluation.classes.length && cell.predicted < evaluation.classes.length) selectCell(cell.label, cell.predicted);
    return;
  }
  if (!evaluation || state.cell?.label !== event.label || state.cell.predicted !== event.predicted) return;
  if (event.type === 'saliency') {
    if (!state.saliency) return;
    for (const { path, overlay } of event.overlays) {
      const item = items.get(path);
      if (!item) continue;
      item.querySelector('.overlay, .overlay-problem')?.remove();
      if ('image' in overlay) item.querySelector('.thumb')?.append(element('img', { className: 'overlay', attributes: { src: overlay.image, alt: '', draggable: 'false' } }));
      else item.querySelector('.details')?.append(element('div', { className: 'overlay-problem muted', text: overlay.problem }));
    }
    return;
  }
  items.clear();
  const count = event.images.length;
  galleryTitle.textContent = `${evaluation.classes[event.label]} → ${evaluation.classes[event.predicted]}: ${count} image${count === 1 ? '' : 's'}, highest loss first`;
  gallery.replaceChildren();
  showImages(event.images, 0);
});

host.post({ type: 'ready' });
