/**
 * Why TensorFlow.js is not training on the GPU, and what to do about it: a pure function of facts
 * gathered elsewhere (`gpu-facts.ts`), so every case can be tested with a table of fixtures.
 *
 * `@tensorflow/tfjs-node-gpu` 4.22 runs libtensorflow 2.9.1, built for CUDA 11.2 and cuDNN 8.1
 * exactly. libtensorflow opens the CUDA libraries when it starts; when one is missing it logs a
 * line and quietly runs on the CPU (tensorflow/tfjs issues 8362, 8269, 8505), so the libraries are
 * checked here by name rather than trusted to fail loudly.
 */

export const GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';
export const GPU_PACKAGE_VERSION = '4.22.0';

/** A shared library TensorFlow needs, by the file name it asks the loader for. */
export interface RequiredLibrary {
  readonly file: string;
  /** What it is, for people: `CUDA 11 runtime`, `cuDNN 8`. */
  readonly what: string;
  readonly family: 'cuda' | 'cudnn';
}

/** What libtensorflow 2.9.1 opens for the GPU, by platform. */
export const REQUIRED_LIBRARIES: Readonly<Record<'linux' | 'win32', readonly RequiredLibrary[]>> = {
  linux: [
    { file: 'libcudart.so.11.0', what: 'CUDA 11 runtime', family: 'cuda' },
    { file: 'libcublas.so.11', what: 'cuBLAS 11', family: 'cuda' },
    { file: 'libcublasLt.so.11', what: 'cuBLASLt 11', family: 'cuda' },
    { file: 'libcufft.so.10', what: 'cuFFT 10 (CUDA 11)', family: 'cuda' },
    { file: 'libcurand.so.10', what: 'cuRAND 10 (CUDA 11)', family: 'cuda' },
    { file: 'libcusolver.so.11', what: 'cuSOLVER 11', family: 'cuda' },
    { file: 'libcusparse.so.11', what: 'cuSPARSE 11', family: 'cuda' },
    { file: 'libcudnn.so.8', what: 'cuDNN 8', family: 'cudnn' },
  ],
  win32: [
    { file: 'cudart64_110.dll', what: 'CUDA 11 runtime', family: 'cuda' },
    { file: 'cublas64_11.dll', what: 'cuBLAS 11', family: 'cuda' },
    { file: 'cublasLt64_11.dll', what: 'cuBLASLt 11', family: 'cuda' },
    { file: 'cufft64_10.dll', what: 'cuFFT 10 (CUDA 11)', family: 'cuda' },
    { file: 'curand64_10.dll', what: 'cuRAND 10 (CUDA 11)', family: 'cuda' },
    { file: 'cusolver64_11.dll', what: 'cuSOLVER 11', family: 'cuda' },
    { file: 'cusparse64_11.dll', what: 'cuSPARSE 11', family: 'cuda' },
    { file: 'cudnn64_8.dll', what: 'cuDNN 8', family: 'cudnn' },
  ],
};

export interface GpuFacts {
  /** `process.platform` and `process.arch`. */
  readonly platform: string;
  readonly arch: string;
  /** Whether the package resolves, and the message its `require` threw, if it was loaded and failed. */
  readonly gpuPackage: { readonly installed: boolean; readonly loadError?: string };
  /** From `nvidia-smi`: absent when the command is missing, else its GPUs (possibly none) or its failure. */
  readonly nvidiaSmi?: { readonly gpus: readonly { readonly name: string; readonly driver: string }[]; readonly cuda?: string; readonly error?: string };
  /** Where each library file was found on the loader's search path (`ldconfig -p`, LD_LIBRARY_PATH, PATH on Windows). */
  readonly libraries: Readonly<Record<string, string>>;
  /** Library files found outside the search path (such as /usr/local/cuda-11.2/lib64), by file name. */
  readonly elsewhere: Readonly<Record<string, string>>;
  /** Versions present on the search path, from file names: CUDA runtime `11.0`, `12`; cuDNN `8`, `9`. */
  readonly cudaRuntimes: readonly string[];
  readonly cudnnVersions: readonly string[];
}

export interface GpuProblem {
  readonly problem: string;
  readonly fix: string;
}

export interface GpuDiagnosis {
  /** True when everything the GPU backend needs is in place. */
  readonly ready: boolean;
  /** One line for the status bar's tooltip and the run record. */
  readonly summary: string;
  readonly problems: readonly GpuProblem[];
}

/**
 * Why a native TensorFlow package (`@tensorflow/tfjs-node` or `-gpu`) is not usable, from
 * whether it resolves and what loading it threw; undefined when neither says anything is wrong.
 */
export function packageProblem(name: string, installed: boolean, loadError?: string): GpuProblem | undefined {
  const install = `npm install ${name}@${GPU_PACKAGE_VERSION}`;
  if (!installed) {
    return {
      problem: `${name} is not installed. It is an optional dependency whose install script downloads libtensorflow from storage.googleapis.com; where that download fails (offline, or behind a proxy), npm leaves the package out and carries on.`,
      fix: `With internet access, run \`${install}\` where Ocular is installed.`,
    };
  }
  if (loadError === undefined) return undefined;
  if (/tfjs_binding\.node/.test(loadError)) {
    return {
      problem: `${name} is installed, but its native addon (tfjs_binding.node) is missing: its install script did not run or did not finish. npm 11 skips the install scripts of packages that allowScripts does not approve.`,
      fix: `Run \`npm install-scripts approve ${name}\` and then \`npm rebuild ${name}\` (with internet access).`,
    };
  }
  const library = missingLibraryIn(loadError);
  if (library && /tensorflow/.test(library)) return { problem: `${name} cannot load ${library}: its libtensorflow download is incomplete.`, fix: `Reinstall it so that it downloads libtensorflow again: \`${install}\`.` };
  if (library) return { problem: `${name} cannot load ${library}: ${firstLine(loadError)}`, fix: `Install the system package that provides ${library}.` };
  return { problem: `${name} failed to load: ${firstLine(loadError)}`, fix: `Reinstall it with \`${install}\`; if the message stays, report it.` };
}

/** The library a loader error names, as in "libcudart.so.11.0: cannot open shared object file". */
export function missingLibraryIn(error: string): string | undefined {
  return /([\w.+-]+\.so(?:\.[\d.]+)?): cannot open shared object file/.exec(error)?.[1] ?? /(\w+\.dll)/i.exec(error)?.[1];
}

const versionsText = (versions: readonly string[]): string => versions.map((v) => v.split('.')[0]).filter((v, i, all) => all.indexOf(v) === i).join(' and ');

function libraryProblems(facts: GpuFacts, required: readonly RequiredLibrary[]): GpuProblem[] {
  const missing = required.filter((lib) => facts.libraries[lib.file] === undefined);
  if (missing.length === 0) return [];
  const problems: GpuProblem[] = [];
  const pathVariable = facts.platform === 'win32' ? 'PATH' : 'LD_LIBRARY_PATH';
  const offPath = missing.filter((lib) => facts.elsewhere[lib.file] !== undefined);
  if (offPath.length > 0) {
    const folders = [...new Set(offPath.map((lib) => dirname(facts.elsewhere[lib.file]!)))];
    problems.push({
      problem: `${offPath.map((lib) => lib.file).join(', ')} ${offPath.length > 1 ? 'are' : 'is'} installed but not on the library search path.`,
      fix: `Add ${folders.join(' and ')} to ${pathVariable} for VS Code (for example in ~/.profile: export ${pathVariable}=${folders.join(':')}:$${pathVariable}), then restart VS Code.`,
    });
  }
  const absent = missing.filter((lib) => facts.elsewhere[lib.file] === undefined);
  const cuda = absent.filter((lib) => lib.family === 'cuda');
  if (cuda.length > 0) {
    const found = facts.cudaRuntimes.length > 0 ? `CUDA ${versionsText(facts.cudaRuntimes)} is installed, but ` : 'CUDA is not installed: ';
    problems.push({
      problem: `${found}${GPU_PACKAGE} ${GPU_PACKAGE_VERSION} needs CUDA 11.2 and cannot load ${cuda.map((lib) => lib.file).join(', ')}.`,
      fix: `Install the CUDA 11.2 toolkit (it can sit beside other CUDA versions, in /usr/local/cuda-11.2) and add its lib64 folder to ${pathVariable}. TensorFlow.js does not support CUDA 12 yet.`,
    });
  }
  const cudnn = absent.filter((lib) => lib.family === 'cudnn');
  if (cudnn.length > 0) {
    const found = facts.cudnnVersions.length > 0 ? `cuDNN ${versionsText(facts.cudnnVersions)} is installed, but ` : 'cuDNN is not installed: ';
    problems.push({
      problem: `${found}${GPU_PACKAGE} needs cuDNN 8.1 and cannot load ${cudnn.map((lib) => lib.file).join(', ')}.`,
      fix: `Install cuDNN 8.1 for CUDA 11.2 (NVIDIA's cuDNN archive) and put its library folder on ${pathVariable}.`,
    });
  }
  return problems;
}

const dirname = (file: string): string => file.replace(/[\\/][^\\/]*$/, '');

/** Explains whether the GPU backend can work here, and if not, every reason with its fix. */
export function diagnoseGpuSetup(facts: GpuFacts): GpuDiagnosis {
  const platform = facts.platform === 'linux' || facts.platform === 'win32' ? facts.platform : undefined;
  if (!platform || facts.arch !== 'x64') {
    return {
      ready: false,
      summary: `No GPU backend for ${facts.platform}-${facts.arch}.`,
      problems: [{ problem: `${GPU_PACKAGE} is only built for Linux and Windows on x64; this is ${facts.platform}-${facts.arch}.`, fix: 'Nothing to install: Ocular trains on the CPU here (native TensorFlow or WebAssembly).' }],
    };
  }
  const smi = facts.nvidiaSmi;
  if (!smi || smi.error !== undefined || smi.gpus.length === 0) {
    const why = !smi ? 'nvidia-smi is not installed' : smi.error !== undefined ? `nvidia-smi failed: ${smi.error}` : 'nvidia-smi lists no GPU';
    return {
      ready: false,
      summary: `No NVIDIA GPU found (${why}).`,
      problems: [{ problem: `No NVIDIA GPU found: ${why}.`, fix: 'If this machine has an NVIDIA GPU, install or repair the NVIDIA driver (nvidia-smi should list the GPU). Otherwise the CPU backends are the fastest available.' }],
    };
  }
  const gpu = smi.gpus[0]!;
  const device = `${gpu.name} (driver ${gpu.driver}${smi.cuda ? `, supports CUDA ${smi.cuda}` : ''})`;
  const problems: GpuProblem[] = [];
  if (smi.cuda && compareVersions(smi.cuda, '11.2') < 0) {
    problems.push({ problem: `The NVIDIA driver ${gpu.driver} supports CUDA up to ${smi.cuda}; ${GPU_PACKAGE} needs CUDA 11.2.`, fix: 'Update the NVIDIA driver to version 460 or newer.' });
  }
  const packageIssue = packageProblem(GPU_PACKAGE, facts.gpuPackage.installed, facts.gpuPackage.loadError);
  // A CUDA library the loader could not open, and that is indeed missing, is explained with the library checks below.
  const loadLibrary = facts.gpuPackage.loadError !== undefined ? missingLibraryIn(facts.gpuPackage.loadError) : undefined;
  const explainedBelow = REQUIRED_LIBRARIES[platform].some((lib) => lib.file === loadLibrary) && facts.libraries[loadLibrary!] === undefined;
  if (packageIssue && !explainedBelow) problems.push(packageIssue);
  problems.push(...libraryProblems(facts, REQUIRED_LIBRARIES[platform]));
  if (problems.length === 0) return { ready: true, summary: `GPU: ${device}, CUDA 11 and cuDNN 8 libraries found.`, problems: [] };
  return { ready: false, summary: `${device} is not used: ${problems[0]!.problem}`, problems };
}

const firstLine = (text: string): string => text.split('\n')[0]!.trim();

/** Compares dotted version numbers: negative when `a` is older. */
function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
