/**
 * Runs an exported ONNX file with ONNX Runtime's WebAssembly build in Node (onnxruntime-node's
 * install downloads from outside the npm registry, so it is not used): one thread, the CPU.
 */
import type * as Ort from 'onnxruntime-web';
import type { Preprocessing } from '../serve/servable';
import { preparedImages } from './prepare';

/** Loaded on first use, so the rest of the command line works where it is not installed. */
function runtime(): typeof Ort {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-web') as typeof Ort;
  ort.env.wasm.numThreads = 1;
  return ort;
}

export interface OnnxRunner {
  /** Class probabilities, N×classes, of C×H×W 0–255 images. */
  predict(images: Uint8Array): Promise<Float32Array>;
  /** The model's metadata_props. */
  readonly metadata: Readonly<Record<string, string>>;
  release(): Promise<void>;
}

export async function loadOnnx(bytes: Uint8Array, preprocessing: Preprocessing): Promise<OnnxRunner> {
  const ort = runtime();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const [c, h, w] = preprocessing.inputShape;
  return {
    metadata: {},
    async predict(images) {
      const count = images.length / (c * h * w);
      const result = await session.run({ images: new ort.Tensor('float32', preparedImages(images, preprocessing), [count, c, h, w]) });
      return Float32Array.from(result['probabilities']!.data as Float32Array);
    },
    release: () => session.release(),
  };
}
