/**
 * The worker thread behind runViewJob (views.ts): lists one class for the gallery, or draws one
 * training image under the dataset's augmentations for the preview. Neither lists more class
 * folders than it needs. Bundled as dist/views-worker.js.
 */
import * as fs from 'node:fs/promises';
import sharp from 'sharp';
import { createAugmenter, decodeImage, fitTensors, Random, readableBases, scanDataset, withReadablePaths, withRelativePaths, type ImageShape, type SourceData, type SplitView } from '../data';
import type { AugmentedImages, ClassFiles, PreviewProblem, ViewJob } from './views';
import { serveJob } from './worker-job';

async function classImages(job: Extract<ViewJob, { job: 'class-images' }>): Promise<ClassFiles> {
  // Only the class's own folder is walked: a gallery click must not list all of ImageNet.
  const scan = await scanDataset(job.spec, { baseDir: job.baseDir, onlyClasses: [job.class] });
  const view = scan.splits[job.split];
  const label = scan.classes.indexOf(job.class);
  if (!view || label < 0) return { files: [], found: false };
  if (view.kind !== 'imagefolder') return { files: [], found: true };
  return { files: view.ids.filter((_, i) => view.labels[i] === label), found: true };
}

/** C×H×W uint8 planes to a PNG. */
function png(pixels: Uint8Array, [c, h, w]: ImageShape): Promise<Buffer> {
  const interleaved = Buffer.alloc(c * h * w);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) interleaved[p * c + ch] = pixels[ch * h * w + p]!;
  return sharp(interleaved, { raw: { width: w, height: h, channels: c as 1 | 3 } }).png().toBuffer();
}

/** The training images up to the one asked for, and whether the split has more after them. */
interface TrainImages {
  readonly view: SplitView;
  readonly source: SourceData | undefined;
  /** The images listed, in the split's order; every image of the split when `more` is false. */
  readonly ids: readonly string[];
  readonly more: boolean;
}

/**
 * Lists the training images class by class, in the split's order, until image `wanted` is among
 * them: a redraw of the first image lists one class folder, not the dataset. A negative `wanted`
 * (stepping back from the first image to the last) lists every class. CIFAR and IDX files hold
 * every record at once and are read whole.
 */
async function trainImages(job: Extract<ViewJob, { job: 'augment-preview' }>): Promise<TrainImages | undefined> {
  const spec = { ...job.spec, sources: job.spec.sources.filter((s) => s.split === 'train') };
  const classes = await scanDataset(spec, { baseDir: job.baseDir, onlyClasses: [] });
  const first = classes.splits.train;
  if (!first) return undefined;
  if (first.kind !== 'imagefolder') return { view: first, source: classes.sources.find((s) => s.source.path === first.path), ids: first.ids, more: false };
  const ids: string[] = [];
  for (const [label, name] of classes.classes.entries()) {
    if (job.image >= 0 && ids.length > job.image) return { view: first, source: undefined, ids, more: true };
    const view = (await scanDataset(spec, { baseDir: job.baseDir, onlyClasses: [name] })).splits.train;
    view?.ids.forEach((id, i) => view.labels[i] === label && ids.push(id));
  }
  return { view: first, source: undefined, ids, more: false };
}

async function augmentPreview(job: Extract<ViewJob, { job: 'augment-preview' }>): Promise<AugmentedImages | PreviewProblem> {
  const listed = await trainImages(job);
  if (!listed || listed.ids.length === 0) return { problem: 'The dataset has no training images to preview: check its train path in the Problems panel.' };
  const { view, source } = listed;
  const shape: ImageShape = job.spec.image ?? source?.tensors?.shape ?? [3, 224, 224];
  const count = listed.ids.length;
  const index = ((job.image % count) + count) % count;
  const id = listed.ids[index]!;
  let pixels: Uint8Array;
  if (source?.tensors) {
    const member = view.members[index]!;
    const [c, h, w] = source.tensors.shape;
    const size = c * h * w;
    const one = { ...source.tensors, pixels: source.tensors.pixels.subarray(member * size, (member + 1) * size), labels: Int32Array.of(0), ids: [id] };
    pixels = fitTensors(one, shape, job.spec.resize);
  } else {
    const decoded = await decodeImage(await fs.readFile(id), id, { shape, resize: job.spec.resize });
    if (!decoded.ok) return { problem: withReadablePaths([decoded.finding], job.baseDir, [view.path])[0]!.message };
    pixels = decoded.pixels;
  }
  const size = shape[0] * shape[1] * shape[2];
  const batch = new Float32Array(size * job.draws);
  for (let i = 0; i < job.draws; i++) for (let k = 0; k < size; k++) batch[i * size + k] = pixels[k]! / 255;
  createAugmenter(job.spec.augment, shape)(batch, job.draws, new Random(job.seed));
  const draws: Buffer[] = [];
  const out = new Uint8Array(size);
  for (let i = 0; i < job.draws; i++) {
    for (let k = 0; k < size; k++) out[k] = Math.round(Math.min(1, Math.max(0, batch[i * size + k]!)) * 255);
    draws.push(await png(out, shape));
  }
  // The page shows which image this is; relative to the model file, as the findings name images.
  const image = withRelativePaths(id, readableBases(job.baseDir, [view.path]));
  return { image, index, count, more: listed.more, shape: [shape[0], shape[1], shape[2]], original: await png(pixels, shape), draws };
}

serveJob<ViewJob, ClassFiles | AugmentedImages | PreviewProblem>((job) => (job.job === 'class-images' ? classImages(job) : augmentPreview(job)));
