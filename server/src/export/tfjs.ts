/**
 * TF.js LayersModel export: `model.json` (topology, weights manifest, Ocular's preprocessing in
 * `userDefinedMetadata.ocular`) and one weights shard, loadable by `tf.loadLayersModel`
 * (`file://…/model.json` with tfjs-node, a URL in the browser, or `loadTfjsExport` here).
 *
 * The exported model takes channels-last (`N×H×W×C`) float images, already scaled to [0, 1] and
 * normalised, and gives logits (softmax them for probabilities): the same network the engine
 * trains. The engine's own two layers are written as stock ones so no custom class is needed:
 * seeded dropout (inference: identity) as `Dropout`, padded max pooling as `ZeroPadding2D` and
 * `MaxPooling2D` — the same when its inputs are never negative (after a ReLU, as in the
 * examples); the parity check after export catches any other case.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildNetwork, writeWeights } from '../engine/tfjs/builder';
import type { Preprocessing, Servable } from '../serve/servable';
import { preparedImages } from './prepare';

export const TFJS_MODEL_FILE = 'model.json';
export const TFJS_WEIGHTS_FILE = 'group1-shard1of1.bin';

type LayerJson = { class_name: string; name?: string; config: Record<string, unknown>; inbound_nodes: unknown[] };

/** Rewrites the engine's custom layers in a functional model's config as stock layers. */
function withStockLayers(topology: { config: { layers: LayerJson[] } }): void {
  const layers: LayerJson[] = [];
  for (const layer of topology.config.layers) {
    const name = layer.config['name'] as string;
    if (layer.class_name === 'OcularSeededDropout') {
      layers.push({ ...layer, class_name: 'Dropout', config: { name, trainable: true, dtype: 'float32', rate: layer.config['rate'] } });
    } else if (layer.class_name === 'OcularPaddedMaxPool') {
      const [ph, pw] = layer.config['padding'] as [number, number];
      let inbound = layer.inbound_nodes;
      if (ph > 0 || pw > 0) {
        const padName = `${name}_pad`;
        layers.push({ class_name: 'ZeroPadding2D', name: padName, config: { name: padName, trainable: true, dtype: 'float32', padding: [[ph, ph], [pw, pw]], data_format: 'channels_last' }, inbound_nodes: inbound });
        inbound = [[[padName, 0, 0, {}]]];
      }
      layers.push({ class_name: 'MaxPooling2D', name, config: { name, trainable: true, dtype: 'float32', pool_size: layer.config['kernel'], strides: layer.config['stride'], padding: 'valid', data_format: 'channels_last' }, inbound_nodes: inbound });
    } else {
      layers.push(layer);
    }
  }
  topology.config.layers = layers;
}

/** Writes the TF.js export of a model with its weights into `outDir`; returns the files written. */
export async function exportTfjs(servable: Servable, outDir: string): Promise<string[]> {
  const network = buildNetwork(servable.model, 0, false);
  try {
    writeWeights(network, servable.weights);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await network.model.save(
      tf.io.withSaveHandler(async (saved) => {
        artifacts = saved;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    if (!artifacts?.modelTopology || !artifacts.weightSpecs || !artifacts.weightData) throw new Error('TensorFlow.js saved no topology or weights.');
    const topology = JSON.parse(JSON.stringify(artifacts.modelTopology)) as { model_config?: { config: { layers: LayerJson[] } } } & { config: { layers: LayerJson[] } };
    withStockLayers(topology.model_config ?? topology);
    const { inputShape, resize, normalize, classes } = servable.preprocessing;
    const modelJson = {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
      convertedBy: 'Ocular',
      modelTopology: topology,
      weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: artifacts.weightSpecs }],
      userDefinedMetadata: {
        ocular: { model: servable.model.name, classes, inputShape, input: 'NHWC float32, scaled to [0, 1] then normalised', resize, ...(normalize ? { normalize } : {}), output: 'logits' },
      },
    };
    fs.mkdirSync(outDir, { recursive: true });
    const weightData = artifacts.weightData as ArrayBuffer;
    fs.writeFileSync(path.join(outDir, TFJS_WEIGHTS_FILE), new Uint8Array(weightData));
    fs.writeFileSync(path.join(outDir, TFJS_MODEL_FILE), JSON.stringify(modelJson));
    return [path.join(outDir, TFJS_MODEL_FILE), path.join(outDir, TFJS_WEIGHTS_FILE)];
  } finally {
    network.model.dispose();
  }
}

/** Loads an export from disk with `tf.loadLayersModel`, reading model.json and its shards. */
export async function loadTfjsExport(dir: string): Promise<tfl.LayersModel> {
  const json = JSON.parse(fs.readFileSync(path.join(dir, TFJS_MODEL_FILE), 'utf8')) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  const shards = json.weightsManifest.flatMap((group) => group.paths.map((file) => fs.readFileSync(path.join(dir, file))));
  const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
}

/** Class probabilities of C×H×W 0–255 images through an exported LayersModel, preprocessed as its metadata says. */
export function predictTfjsExport(model: tfl.LayersModel, preprocessing: Preprocessing, images: Uint8Array): Float32Array {
  const [c, h, w] = preprocessing.inputShape;
  const count = images.length / (c * h * w);
  return tf.tidy(() => {
    const x = tf.transpose(tf.tensor4d(preparedImages(images, preprocessing), [count, c, h, w]), [0, 2, 3, 1]);
    return tf.softmax(model.predict(x) as tf.Tensor2D).dataSync() as Float32Array;
  });
}
