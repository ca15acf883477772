/**
 * The class gallery: every image of one class of a dataset as a grid of thumbnails, virtualised so
 * that a class of many thousands of images stays fast (only the rows in view, plus a margin, exist
 * in the DOM, and the browser fetches only their images). Each thumbnail shows the file name and
 * any finding of the latest scan on it; clicking one asks the host to open the file.
 */
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { GalleryClass, GalleryItem, GalleryState } from '../../protocol/protocol';
import { element } from '../shared/dom';
import { connect } from '../shared/host';
import '../shared/page.css';
import './gallery.css';

/** Cell size in CSS pixels; must agree with gallery.css. */
const CELL_WIDTH = 148;
const ROW_HEIGHT = 176;
/** Rows rendered above and below the visible ones, so fast scrolling shows no gaps. */
const MARGIN_ROWS = 2;

const host = connect('gallery');
let state: GalleryState = host.state({ scrollTop: 0, onlyFindings: false });
let items: readonly GalleryItem[] = [];
let shown: readonly GalleryItem[] = [];
let columns = 1;
/** The cells in the DOM, by position in `shown`. */
const cells = new Map<number, HTMLElement>();

const title = element('div', { className: 'title', text: state.target ? titleOf(state.target) : 'Loading…' });
const summary = element('div', { className: 'muted', attributes: { id: 'summary' } });
const onlyFindings = element('vscode-checkbox', { attributes: { id: 'only-findings', label: 'Only images with findings' } }) as HTMLElement & { checked: boolean };
onlyFindings.checked = state.onlyFindings;
const toolbar = element('div', { className: 'toolbar' }, [title, summary, element('div', { className: 'spacer' }), onlyFindings]);
const grid = element('div', { className: 'grid', attributes: { id: 'grid' } });
const scroller = element('div', { className: 'scroller', attributes: { id: 'scroller' } }, [grid]);
const message = element('div', { className: 'message muted', text: 'Listing images…', attributes: { id: 'message' } });
document.body.append(toolbar, message, scroller);

function titleOf(target: GalleryClass): string {
  return `${target.class} · ${target.split} · ${target.dataset}`;
}

function save(): void {
  host.setState(state);
}

function findingText(item: GalleryItem): string {
  return item.findings.map((f) => `${f.severity === 'error' ? 'Error' : f.severity === 'warning' ? 'Warning' : 'Note'}: ${f.message}`).join('\n');
}

function thumbnail(item: GalleryItem): HTMLElement {
  if (!item.src) return element('div', { className: 'placeholder', text: 'not shown' });
  const image = element('img', { attributes: { src: item.src, alt: item.name, loading: 'lazy', decoding: 'async', draggable: 'false' } });
  // Small dataset images (28×28, 32×32) are scaled up with visible pixels; photos are scaled down smoothly.
  image.addEventListener('load', () => image.naturalWidth < 120 && image.classList.add('pixelated'), { once: true });
  image.addEventListener('error', () => image.replaceWith(element('div', { className: 'placeholder', text: 'cannot display' })), { once: true });
  return image;
}

function cell(item: GalleryItem, index: number): HTMLElement {
  const worst = item.findings.some((f) => f.severity === 'error') ? 'error' : item.findings.some((f) => f.severity === 'warning') ? 'warning' : item.findings.length > 0 ? 'info' : '';
  const caption = element('div', { className: 'caption' }, [element('span', { className: 'name', text: item.name })]);
  if (worst) caption.append(element('div', { className: `finding ${worst}`, text: item.findings[0]!.message }));
  const button = element('button', { className: `cell${worst ? ` has-${worst}` : ''}`, attributes: { title: [item.path, findingText(item)].filter(Boolean).join('\n'), 'data-index': String(index) } }, [element('div', { className: 'thumb' }, [thumbnail(item)]), caption]);
  button.style.transform = `translate(${(index % columns) * CELL_WIDTH}px, ${Math.floor(index / columns) * ROW_HEIGHT}px)`;
  button.addEventListener('click', () => host.post({ type: 'open', path: item.path }));
  return button;
}

/** Renders the rows in view (and a margin), keeping cells that stay in view and dropping the rest. */
function render(): void {
  const rows = Math.ceil(shown.length / columns);
  grid.style.height = `${rows * ROW_HEIGHT}px`;
  const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - MARGIN_ROWS);
  const last = Math.min(rows, Math.ceil((scroller.scrollTop + scroller.clientHeight) / ROW_HEIGHT) + MARGIN_ROWS);
  const from = first * columns;
  const to = Math.min(shown.length, last * columns);
  for (const [index, node] of cells) {
    if (index < from || index >= to) {
      node.remove();
      cells.delete(index);
    }
  }
  for (let index = from; index < to; index++) {
    if (cells.has(index)) continue;
    const node = cell(shown[index]!, index);
    cells.set(index, node);
    grid.appendChild(node);
  }
}

/** Lays the grid out again from scratch: after new images, a filter change or a new width. */
function relayout(): void {
  columns = Math.max(1, Math.floor((scroller.clientWidth || CELL_WIDTH) / CELL_WIDTH));
  for (const node of cells.values()) node.remove();
  cells.clear();
  render();
}

function applyFilter(): void {
  shown = state.onlyFindings ? items.filter((item) => item.findings.length > 0) : items;
  const flagged = items.filter((item) => item.findings.length > 0).length;
  const count = (n: number, what: string): string => `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;
  summary.textContent = `${count(items.length, 'image')}${flagged > 0 ? ` · ${count(flagged, 'image')} with findings` : ''}`;
  message.hidden = shown.length > 0;
  message.className = 'message muted';
  message.textContent = items.length === 0 ? 'This class has no image files.' : 'No image of this class has a finding.';
  relayout();
}

host.onMessage((event) => {
  if (event.type === 'error') {
    title.textContent = titleOf(event.target);
    items = [];
    shown = [];
    relayout();
    message.hidden = false;
    message.className = 'message error';
    message.textContent = event.message;
    return;
  }
  const sameClass = state.target && JSON.stringify(state.target) === JSON.stringify(event.target);
  state = { ...state, target: event.target, scrollTop: sameClass ? state.scrollTop : 0 };
  save();
  title.textContent = titleOf(event.target);
  items = event.items;
  applyFilter();
  scroller.scrollTop = state.scrollTop;
  render();
});

scroller.addEventListener('scroll', () => {
  render();
  state = { ...state, scrollTop: scroller.scrollTop };
  save();
});
new ResizeObserver(() => relayout()).observe(scroller);
onlyFindings.addEventListener('change', () => {
  state = { ...state, onlyFindings: onlyFindings.checked, scrollTop: 0 };
  save();
  scroller.scrollTop = 0;
  applyFilter();
});

host.post({ type: 'ready' });
