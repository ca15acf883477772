/**
 * `diagnoseGpuSetup` on fixtures of facts, one per way the GPU backend fails in practice; the
 * parsers of nvidia-smi and ldconfig output; and the backend ladder with the native packages
 * absent, failing or loading (simulated), and for real on this machine.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { diagnoseGpuSetup, missingLibraryIn, REQUIRED_LIBRARIES, type GpuFacts } from '../../server/src/engine/tfjs/gpu-diagnosis';
import { parseDriverCuda, parseGpuList, parseLdconfig } from '../../server/src/engine/tfjs/gpu-facts';
import { selectBackend, wasmDirectory } from '../../server/src/engine/tfjs/backends';

const allLinux = Object.fromEntries(REQUIRED_LIBRARIES.linux.map((lib) => [lib.file, `/usr/local/cuda-11.2/lib64/${lib.file}`]));
const without = (...files: string[]): Record<string, string> => Object.fromEntries(Object.entries(allLinux).filter(([file]) => !files.includes(file)));
const cuda11Libraries = REQUIRED_LIBRARIES.linux.filter((lib) => lib.family === 'cuda').map((lib) => lib.file);

const ready: GpuFacts = {
  platform: 'linux',
  arch: 'x64',
  gpuPackage: { installed: true },
  nvidiaSmi: { gpus: [{ name: 'NVIDIA GeForce RTX 3090', driver: '535.104.05' }], cuda: '12.2' },
  libraries: allLinux,
  elsewhere: {},
  cudaRuntimes: ['11.0'],
  cudnnVersions: ['8'],
};

const cases: { name: string; facts: GpuFacts; ready: boolean; summary: RegExp; problems: RegExp[] }[] = [
  { name: 'everything in place', facts: ready, ready: true, summary: /^GPU: NVIDIA GeForce RTX 3090 \(driver 535.104.05, supports CUDA 12.2\), CUDA 11 and cuDNN 8 libraries found/, problems: [] },
  {
    name: 'a Mac',
    facts: { ...ready, platform: 'darwin', arch: 'arm64' },
    ready: false,
    summary: /No GPU backend for darwin-arm64/,
    problems: [/only built for Linux and Windows on x64; this is darwin-arm64/],
  },
  { name: 'no nvidia-smi', facts: { ...ready, nvidiaSmi: undefined as never }, ready: false, summary: /No NVIDIA GPU found \(nvidia-smi is not installed\)/, problems: [/install or repair the NVIDIA driver/] },
  { name: 'nvidia-smi fails (driver mismatch)', facts: { ...ready, nvidiaSmi: { gpus: [], error: 'Failed to initialize NVML: Driver/library version mismatch' } }, ready: false, summary: /nvidia-smi failed: Failed to initialize NVML/, problems: [/No NVIDIA GPU found/] },
  {
    name: 'the package is absent (its install could not download libtensorflow)',
    facts: { ...ready, gpuPackage: { installed: false } },
    ready: false,
    summary: /RTX 3090 .* is not used: @tensorflow\/tfjs-node-gpu is not installed/,
    problems: [/downloads libtensorflow from storage.googleapis.com[\s\S]*npm install @tensorflow\/tfjs-node-gpu@4.22.0/],
  },
  {
    name: 'installed but its install script never ran (npm 11 allowScripts)',
    facts: { ...ready, gpuPackage: { installed: true, loadError: 'The Node.js native addon module (tfjs_binding.node) can not be found at path: /x/lib/napi-v8/tfjs_binding.node.' } },
    ready: false,
    summary: /native addon \(tfjs_binding.node\) is missing/,
    problems: [/npm install-scripts approve @tensorflow\/tfjs-node-gpu[\s\S]*npm rebuild @tensorflow\/tfjs-node-gpu/],
  },
  {
    name: 'CUDA 12 only: libcudart.so.11.0 and the other CUDA 11 libraries fail to load',
    facts: { ...ready, gpuPackage: { installed: true, loadError: 'libcudart.so.11.0: cannot open shared object file: No such file or directory' }, libraries: without(...cuda11Libraries), cudaRuntimes: ['12'] },
    ready: false,
    summary: /is not used: CUDA 12 is installed, but @tensorflow\/tfjs-node-gpu 4.22.0 needs CUDA 11.2 and cannot load libcudart.so.11.0, libcublas.so.11/,
    problems: [/Install the CUDA 11.2 toolkit[\s\S]*LD_LIBRARY_PATH[\s\S]*does not support CUDA 12/],
  },
  {
    name: 'cuDNN 9 instead of 8: libcudnn.so.8 missing, the package loads (and silently runs on the CPU)',
    facts: { ...ready, libraries: without('libcudnn.so.8'), cudnnVersions: ['9'] },
    ready: false,
    summary: /cuDNN 9 is installed, but @tensorflow\/tfjs-node-gpu needs cuDNN 8.1 and cannot load libcudnn.so.8/,
    problems: [/Install cuDNN 8.1 for CUDA 11.2/],
  },
  {
    name: 'neither CUDA nor cuDNN: both problems, each with its fix',
    facts: { ...ready, libraries: {}, cudaRuntimes: [], cudnnVersions: [] },
    ready: false,
    summary: /CUDA is not installed: .*libcudart.so.11.0/,
    problems: [/CUDA is not installed[\s\S]*CUDA 11.2 toolkit/, /cuDNN is not installed[\s\S]*cuDNN 8.1/],
  },
  {
    name: 'CUDA 11.2 installed in /usr/local but not on the library path',
    facts: { ...ready, libraries: without('libcudart.so.11.0', 'libcublas.so.11'), elsewhere: { 'libcudart.so.11.0': '/usr/local/cuda-11.2/lib64/libcudart.so.11.0', 'libcublas.so.11': '/usr/local/cuda-11.2/lib64/libcublas.so.11' } },
    ready: false,
    summary: /libcudart.so.11.0, libcublas.so.11 are installed but not on the library search path/,
    problems: [/Add \/usr\/local\/cuda-11.2\/lib64 to LD_LIBRARY_PATH/],
  },
  {
    name: 'a driver too old for CUDA 11.2',
    facts: { ...ready, nvidiaSmi: { gpus: [{ name: 'Tesla K80', driver: '418.67' }], cuda: '10.1' } },
    ready: false,
    summary: /Tesla K80 .* is not used: The NVIDIA driver 418.67 supports CUDA up to 10.1/,
    problems: [/Update the NVIDIA driver to version 460 or newer/],
  },
  {
    name: 'libtensorflow itself missing from the package',
    facts: { ...ready, gpuPackage: { installed: true, loadError: 'Error: libtensorflow.so.2: cannot open shared object file: No such file or directory' } },
    ready: false,
    summary: /cannot load libtensorflow.so.2/,
    problems: [/Reinstall it so that it downloads libtensorflow again/],
  },
  {
    name: 'Windows without cudnn64_8.dll',
    facts: { ...ready, platform: 'win32', libraries: Object.fromEntries(REQUIRED_LIBRARIES.win32.filter((lib) => lib.family === 'cuda').map((lib) => [lib.file, `C:\\CUDA\\v11.2\\bin\\${lib.file}`])), cudnnVersions: [] },
    ready: false,
    summary: /cuDNN is not installed: .*cudnn64_8.dll/,
    problems: [/put its library folder on PATH/],
  },
];

describe('diagnoseGpuSetup', () => {
  for (const c of cases) {
    it(c.name, () => {
      const diagnosis = diagnoseGpuSetup(c.facts);
      assert.equal(diagnosis.ready, c.ready);
      assert.match(diagnosis.summary, c.summary);
      assert.equal(diagnosis.problems.length, c.problems.length, diagnosis.problems.map((p) => p.problem).join('\n'));
      c.problems.forEach((pattern, i) => assert.match(`${diagnosis.problems[i]!.problem} ${diagnosis.problems[i]!.fix}`, pattern));
    });
  }

  it('finds the library a loader error names', () => {
    assert.equal(missingLibraryIn('Error: libcudnn.so.8: cannot open shared object file: No such file or directory'), 'libcudnn.so.8');
    assert.equal(missingLibraryIn('something else'), undefined);
  });
});

describe('fact parsers', () => {
  it('reads GPUs from nvidia-smi --query-gpu=name,driver_version --format=csv,noheader', () => {
    assert.deepEqual(parseGpuList('NVIDIA H100 80GB HBM3, 550.54.15\nNVIDIA A100-SXM4-40GB, 550.54.15\n'), [
      { name: 'NVIDIA H100 80GB HBM3', driver: '550.54.15' },
      { name: 'NVIDIA A100-SXM4-40GB', driver: '550.54.15' },
    ]);
  });

  it("reads the driver's CUDA version from nvidia-smi's banner", () => {
    assert.equal(parseDriverCuda('| NVIDIA-SMI 550.54.15    Driver Version: 550.54.15    CUDA Version: 12.4     |'), '12.4');
    assert.equal(parseDriverCuda('no banner'), undefined);
  });

  it('reads 64-bit libraries from ldconfig -p, first entry first', () => {
    const text = [
      '1234 libs found in cache `/etc/ld.so.cache\'',
      '\tlibcudnn.so.8 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.8',
      '\tlibcudart.so.12 (libc6,x86-64) => /usr/local/cuda-12.4/lib64/libcudart.so.12',
      '\tlibcudart.so.12 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudart.so.12',
      '\tlibfoo.so.1 (libc6) => /usr/lib/i386-linux-gnu/libfoo.so.1',
    ].join('\n');
    assert.deepEqual([...parseLdconfig(text)], [
      ['libcudnn.so.8', '/usr/lib/x86_64-linux-gnu/libcudnn.so.8'],
      ['libcudart.so.12', '/usr/local/cuda-12.4/lib64/libcudart.so.12'],
    ]);
  });
});

describe('backend ladder', () => {
  const noGpu = async (): Promise<GpuFacts> => ({ ...ready, nvidiaSmi: undefined as never, gpuPackage: { installed: false } });

  it('auto on this machine: wasm, saying why the native backends were passed over', async () => {
    const device = await selectBackend({ gatherFacts: noGpu, installed: () => false });
    assert.equal(device.backend, 'wasm');
    assert.match(device.description, /^WebAssembly on the CPU \((no )?SIMD, 1 thread\)$/);
    assert.deepEqual(device.skipped.map((s) => s.backend), ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    assert.match(device.skipped[0]!.reason, /No NVIDIA GPU found/);
    assert.match(device.skipped[1]!.reason, /@tensorflow\/tfjs-node is not installed[\s\S]*npm install @tensorflow\/tfjs-node@4.22.0/);
  });

  it('a native package that fails to load is reported with its message', async () => {
    const device = await selectBackend({
      preference: 'native',
      installed: () => true,
      load: () => {
        throw new Error('The Node.js native addon module (tfjs_binding.node) can not be found at path: /x');
      },
    });
    assert.equal(device.backend, 'wasm');
    assert.match(device.skipped[0]!.reason, /tfjs_binding.node\) is missing[\s\S]*npm install-scripts approve @tensorflow\/tfjs-node/);
  });

  it('a GPU package that fails on a CUDA library is explained by the diagnosis', async () => {
    const facts: GpuFacts = { ...ready, libraries: without(...cuda11Libraries), cudaRuntimes: ['12'] };
    const device = await selectBackend({
      gatherFacts: async (loadError) => ({ ...facts, gpuPackage: { installed: true, ...(loadError ? { loadError } : {}) } }),
      installed: () => false,
      load: () => {
        throw new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');
      },
    });
    assert.equal(device.backend, 'wasm');
    assert.match(device.skipped[0]!.reason, /CUDA 12 is installed, but @tensorflow\/tfjs-node-gpu 4.22.0 needs CUDA 11.2/);
  });

  it('missing wasm files fall through to the JavaScript backend', async () => {
    const device = await selectBackend({ preference: 'wasm', wasmDirectory: '/nonexistent/wasm' });
    assert.equal(device.backend, 'cpu');
    assert.match(device.skipped[0]!.reason, /The WebAssembly files \(tfjs-backend-wasm.wasm, tfjs-backend-wasm-simd.wasm\) are missing from \/nonexistent\/wasm/);
  });

  it('cpu when asked; the wasm files are found in the package by default or in a given folder', async () => {
    assert.deepEqual(await selectBackend({ preference: 'cpu' }), { engine: 'tfjs', backend: 'cpu', description: 'plain JavaScript on the CPU (slow: for tiny models)', skipped: [] });
    assert.match(wasmDirectory() ?? '', /tfjs-backend-wasm[\\/]dist$/);
    assert.equal(wasmDirectory('/copied/wasm'), '/copied/wasm');
  });

  it('auto for real: this machine has no native package installed, so wasm', async () => {
    const device = await selectBackend();
    assert.equal(device.backend, 'wasm');
    assert.equal(device.skipped.length, 2);
  });
});
