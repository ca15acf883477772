/**
 * What each built-in layer does to a shape, and what it costs: parameters and multiply-accumulate
 * operations (MACs) for one image, counted as PyTorch would (batchnorm's running statistics are
 * buffers, not parameters).
 */
import { pair, type Value } from './values';

/** Channels first: `[C, H, W]` for images, `[N]` after flatten or dense. */
export type Shape = readonly number[];

export interface LayerEffect {
  readonly output: Shape;
  readonly params: number;
  readonly macs: number;
}

export type LayerOutcome = ({ readonly ok: true } & LayerEffect) | { readonly ok: false; readonly message: string };

export const formatShape = (shape: Shape): string => shape.join('×');
export const elements = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

const fail = (message: string): LayerOutcome => ({ ok: false, message });
const ok = (output: Shape, params = 0, macs = 0): LayerOutcome => ({ ok: true, output, params, macs });

const flag = (value: Value | undefined): boolean => !(value?.kind === 'word' && value.text === 'false');
const count = (value: Value | undefined): number => (value?.kind === 'number' ? value.value : 0);

/** Needs an image-shaped input; the message names the layer so the user knows which one to move. */
function needsImage(layer: string, input: Shape): string | undefined {
  if (input.length === 3) return undefined;
  return `${layer} needs a C×H×W input, but it gets a flat vector of ${input[0]} values; put it before flatten and dense.`;
}

interface Window {
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: Value;
  readonly dilation: [number, number];
}

/** Output size along one axis, or a message when the window does not fit. */
function slide(layer: string, axis: string, size: number, kernel: number, stride: number, padding: Value, dilation: number, index: 0 | 1): number | string {
  const span = dilation * (kernel - 1) + 1;
  if (padding.kind === 'word' && padding.text === 'same') return Math.ceil(size / stride);
  const pad = padding.kind === 'word' ? 0 : pair(padding)[index];
  if (span > size + 2 * pad) {
    const padded = pad > 0 ? ` (${size} + 2×${pad} padding)` : '';
    return `${layer} ${axis}: the ${span > kernel ? `dilated kernel spans ${span}` : `kernel (${kernel})`}, larger than its padded input ${size + 2 * pad}${padded}; use a smaller kernel, more padding, or less downsampling before it.`;
  }
  return Math.floor((size + 2 * pad - span) / stride) + 1;
}

function slideWindow(layer: string, input: Shape, window: Window): [number, number] | string {
  const h = slide(layer, 'height', input[1]!, window.kernel[0], window.stride[0], window.padding, window.dilation[0], 0);
  if (typeof h === 'string') return h;
  const w = slide(layer, 'width', input[2]!, window.kernel[1], window.stride[1], window.padding, window.dilation[1], 1);
  if (typeof w === 'string') return w;
  return [h, w];
}

function convolution(layer: string, input: Shape, outChannels: number, groups: number, args: ReadonlyMap<string, Value>): LayerOutcome {
  const problem = needsImage(layer, input);
  if (problem) return fail(problem);
  const [c] = input as [number, number, number];
  if (c % groups !== 0 || outChannels % groups !== 0) return fail(`${layer} groups=${groups} must divide both the input channels (${c}) and the output channels (${outChannels}).`);
  const kernel = pair(args.get('kernel')!);
  const padding = args.get('padding')!;
  const stride = pair(args.get('stride')!);
  const size = slideWindow(layer, input, { kernel, stride, padding, dilation: pair(args.get('dilation')!) });
  if (typeof size === 'string') return fail(size);
  const perOutput = (c / groups) * kernel[0] * kernel[1];
  const params = outChannels * perOutput + (flag(args.get('bias')) ? outChannels : 0);
  return ok([outChannels, size[0], size[1]], params, outChannels * size[0] * size[1] * perOutput);
}

function pooling(layer: string, input: Shape, args: ReadonlyMap<string, Value>): LayerOutcome {
  const problem = needsImage(layer, input);
  if (problem) return fail(problem);
  const kernel = pair(args.get('kernel')!);
  const strideValue = args.get('stride')!;
  const stride = strideValue.kind === 'word' ? kernel : pair(strideValue);
  const padding = args.get('padding')!;
  const [ph, pw] = pair(padding);
  if (ph > kernel[0] / 2 || pw > kernel[1] / 2) return fail(`${layer} padding must be at most half the window (${Math.floor(kernel[0] / 2)}), as in PyTorch.`);
  const size = slideWindow(layer, input, { kernel, stride, padding, dilation: [1, 1] });
  if (typeof size === 'string') return fail(size);
  return ok([input[0]!, size[0], size[1]], 0, input[0]! * size[0] * size[1] * kernel[0] * kernel[1]);
}

/** The effect of one built-in layer without a body, or why it cannot take this input. */
export function applyLayer(kind: string, input: Shape, args: ReadonlyMap<string, Value>): LayerOutcome {
  switch (kind) {
    case 'conv':
      return convolution('conv', input, count(args.get('out')), count(args.get('groups')), args);
    case 'dwconv':
      return convolution('dwconv', input, (input[0] ?? 0) * count(args.get('multiplier')), input[0] ?? 1, args);
    case 'maxpool':
    case 'avgpool':
      return pooling(kind, input, args);
    case 'globalavgpool':
    case 'globalmaxpool': {
      const problem = needsImage(kind, input);
      return problem ? fail(problem) : ok([input[0]!, 1, 1], 0, elements(input));
    }
    case 'batchnorm':
      return ok(input, 2 * input[0]!, 2 * elements(input));
    case 'flatten':
      return ok([elements(input)]);
    case 'dense': {
      const units = count(args.get('units'));
      if (input.length !== 1) {
        return fail(`dense needs a flat input, but it gets ${formatShape(input)}; add 'flatten' (or 'globalavgpool' then 'flatten') before it.`);
      }
      return ok([units], input[0]! * units + (flag(args.get('bias')) ? units : 0), input[0]! * units);
    }
    default:
      // Activations, dropout and softmax keep the shape and learn nothing.
      return ok(input);
  }
}

/**
 * How a residual block joins its input to its body's output: unchanged when the shapes agree,
 * otherwise through a projection (1×1 conv with the body's stride, then batchnorm), which only
 * exists when the body shrank the image by a whole stride.
 */
export function joinResidual(input: Shape, output: Shape, shortcut: string): LayerOutcome & { projected?: boolean } {
  const same = input.length === output.length && input.every((d, i) => d === output[i]);
  if (same && shortcut !== 'projection') return { ...ok(output), projected: false };
  if (shortcut === 'identity') {
    return fail(`shortcut=identity needs the body to keep the shape, but it turns ${formatShape(input)} into ${formatShape(output)}; use shortcut=auto to add a projection.`);
  }
  if (input.length !== 3 || output.length !== 3) {
    return fail(`the residual's input ${formatShape(input)} and its body's output ${formatShape(output)} cannot be added: keep the body image-shaped (no flatten or dense inside).`);
  }
  const [ci, hi, wi] = input as [number, number, number];
  const [co, ho, wo] = output as [number, number, number];
  const sh = Math.ceil(hi / ho);
  const sw = Math.ceil(wi / wo);
  if (ho > hi || wo > wi || Math.floor((hi - 1) / sh) + 1 !== ho || Math.floor((wi - 1) / sw) + 1 !== wo) {
    return fail(`the residual's input ${formatShape(input)} cannot be projected onto its body's output ${formatShape(output)}: a 1×1 projection with a stride cannot give that size. Use padding so the body only divides the size by its stride.`);
  }
  // The projection's batchnorm costs what a batchnorm line does: 2 parameters per channel, 2 MACs per value.
  return { ...ok(output, ci * co + 2 * co, ci * co * ho * wo + 2 * co * ho * wo), projected: true };
}
