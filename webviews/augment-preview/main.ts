/**
 * The augmentation preview: one training image before augmentation and under N seeded random
 * draws of the dataset's current augment settings. The host computes the pictures (the language
 * server, in a worker) and sends them again whenever the settings change in the editor; this page
 * only shows them and asks for another image, other draws or another count.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { AugmentPreview, AugmentPreviewState, AugmentPreviewTarget } from '../../protocol/protocol';
import { element } from '../shared/dom';
import { connect } from '../shared/host';
import '../shared/page.css';
import './augment-preview.css';

const DRAW_COUNTS = [8, 16, 32];

const host = connect('augment-preview');
let state: AugmentPreviewState = host.state({ image: 0, seed: 1, draws: 16 });

const title = element('div', { className: 'title', text: state.target ? `Augmentation · ${state.target.dataset}` : 'Augmentation preview' });
const status = element('div', { className: 'muted', attributes: { id: 'status' } });
const button = (id: string, label: string, action: () => void): HTMLElement => {
  const node = element('vscode-button', { text: label, attributes: { id, secondary: '' } });
  node.addEventListener('click', action);
  return node;
};
const drawsSelect = element('vscode-single-select', { attributes: { id: 'draws', 'aria-label': 'Draws' } }, DRAW_COUNTS.map((n) => element('vscode-option', { text: `${n} draws`, attributes: { value: String(n) } }))) as HTMLElement & { value: string };
const toolbar = element('div', { className: 'toolbar' }, [
  title,
  status,
  element('div', { className: 'spacer' }),
  button('previous', 'Previous image', () => request({ image: state.image - 1 })),
  button('next', 'Next image', () => request({ image: state.image + 1 })),
  button('redraw', 'New draws', () => request({ seed: (state.seed + 1) >>> 0 })),
  drawsSelect,
]);
const message = element('div', { className: 'message muted', text: 'Drawing…', attributes: { id: 'message' } });
const content = element('div', { className: 'content', attributes: { id: 'content' } });
document.body.append(toolbar, message, content);
drawsSelect.value = String(state.draws);
drawsSelect.addEventListener('change', () => request({ draws: Number(drawsSelect.value) || state.draws }));

function request(change: Partial<Pick<AugmentPreviewState, 'image' | 'seed' | 'draws'>>): void {
  state = { ...state, ...change };
  host.setState(state);
  status.textContent = 'Drawing…';
  host.post({ type: 'draw', image: state.image, seed: state.seed, draws: state.draws });
}

function picture(src: string, caption: string, shape: readonly number[]): HTMLElement {
  const [, h = 1, w = 1] = shape;
  // Small images (8×8 digits, 32×32 CIFAR) are scaled up with visible pixels, never past 192 pixels a side.
  const scale = Math.max(1, Math.floor(192 / Math.max(h, w)));
  const image = element('img', { className: Math.max(h, w) < 192 ? 'pixelated' : '', attributes: { src, alt: caption, width: String(w * scale), height: String(h * scale) } });
  return element('figure', {}, [image, element('figcaption', { className: 'muted', text: caption })]);
}

function show(target: AugmentPreviewTarget, preview: AugmentPreview, seed: number): void {
  state = { ...state, target, image: preview.index, seed };
  host.setState(state);
  title.textContent = `Augmentation · ${target.dataset}`;
  status.textContent = `image ${(preview.index + 1).toLocaleString('en-US')} of ${preview.count.toLocaleString('en-US')}${preview.more ? ' listed so far' : ''} · seed ${seed}`;
  message.hidden = true;
  const settings = preview.augmentations.length > 0 ? preview.augmentations.map((line) => element('code', { text: line })) : [element('span', { className: 'warning', text: 'The augment block is empty: every draw is the original image.' })];
  const [c, h, w] = preview.shape;
  content.replaceChildren(
    element('section', { className: 'source' }, [
      picture(preview.original, 'original', preview.shape),
      element('div', { className: 'details' }, [
        element('div', { className: 'file', text: preview.image }),
        element('div', { className: 'muted', text: `${c}×${h}×${w} as the model sees it, before normalize` }),
        element('div', { className: 'settings', attributes: { id: 'settings' } }, settings),
      ]),
    ]),
    element('section', { className: 'draws', attributes: { id: 'draw-grid' } }, preview.draws.map((src, i) => picture(src, `draw ${i + 1}`, preview.shape))),
  );
}

host.onMessage((event) => {
  if (event.type === 'busy') {
    status.textContent = 'Drawing…';
  } else if (event.type === 'preview') {
    show(event.target, event.preview, event.seed);
  } else {
    title.textContent = `Augmentation · ${event.target.dataset}`;
    status.textContent = '';
    content.replaceChildren();
    message.hidden = false;
    message.className = 'message error';
    message.textContent = event.message;
  }
});

request({});
