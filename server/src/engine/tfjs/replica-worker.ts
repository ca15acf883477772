/**
 * A data-parallel training replica (see `data-parallel.ts`), in its own worker thread with its
 * own TensorFlow.js backend: it builds the model as the primary did and answers the primary's
 * messages in order until it is terminated.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { applySums, writeShard, type FromReplica, type ReplicaSetup, type ToReplica } from './data-parallel';
import type { ShardGradients } from './tfjs-engine';
import { TfjsEngine } from './tfjs-engine';

async function main(): Promise<void> {
  const setup = workerData as ReplicaSetup;
  const port = parentPort!;
  const answer = (message: FromReplica): void => port.postMessage(message);
  const engine = await TfjsEngine.create({ preference: setup.backend });
  const model = await engine.buildReplica(setup.model, setup.options);
  const own = new Float32Array(setup.exchange[setup.index - 1]!);
  const sums = new Float32Array(setup.exchange[0]!);
  /** This replica's shard of the step under way, kept until the step's gradients are combined. */
  let pending: ShardGradients | undefined;
  const release = (): void => {
    if (pending) tf.dispose([pending.loss, pending.correct, ...pending.gradients]);
    pending = undefined;
  };
  const handle = async (message: ToReplica): Promise<FromReplica> => {
    switch (message.type) {
      case 'step': {
        release();
        pending = model.shardGradients(message.batch, message.targets, { start: message.start, total: message.total });
        writeShard(model, pending, own);
        return { type: 'gradients', loss: pending.loss.dataSync()[0]!, correct: pending.correct.dataSync()[0]! };
      }
      case 'combine':
        try {
          model.dropoutCalls = message.dropoutCalls;
          applySums(model, pending, sums, message.learningRate);
          return { type: 'done' };
        } finally {
          release();
        }
      case 'apply-gathered':
        await model.applyGatheredGradients(message.learningRate);
        return { type: 'done' };
      case 'evaluate': {
        const { loss, correct } = await model.evaluate(message.batch, message.targets);
        return { type: 'evaluation', loss, correct };
      }
      case 'predict':
        return { type: 'probabilities', values: await model.predict(message.images) };
      case 'weights':
        model.setWeights(message.weights);
        return { type: 'done' };
      case 'state':
        model.setTrainingState(message.state);
        return { type: 'done' };
    }
  };
  // Messages are handled one after another, in order; one that fails is answered with its
  // error, and the primary decides what follows.
  let queue = Promise.resolve();
  port.on('message', (message: ToReplica) => {
    queue = queue.then(() => handle(message)).then(answer, (error: unknown) => answer({ type: 'failed', message: error instanceof Error ? error.message : String(error) }));
  });
  answer({ type: 'ready' });
}

main().catch((error: unknown) => parentPort!.postMessage({ type: 'failed', message: `The training thread could not start: ${error instanceof Error ? error.message : String(error)}` } satisfies FromReplica));
