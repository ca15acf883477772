/**
 * Gathers the facts `diagnoseGpuSetup` judges: the GPUs nvidia-smi lists, and where the loader
 * would find each CUDA and cuDNN library. Reading them is kept apart from judging them so the
 * judgement can be tested on any machine.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GPU_PACKAGE, REQUIRED_LIBRARIES, type GpuFacts } from './gpu-diagnosis';

function run(command: string, args: readonly string[]): Promise<{ stdout: string; error?: string; missing: boolean }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 10_000, windowsHide: true }, (error, stdout, stderr) => {
      if (!error) return resolve({ stdout, missing: false });
      const code = (error as NodeJS.ErrnoException).code;
      resolve({ stdout, error: (stderr || error.message).trim().split('\n')[0], missing: code === 'ENOENT' });
    });
  });
}

/** Parses `nvidia-smi --query-gpu=name,driver_version --format=csv,noheader` lines. */
export function parseGpuList(text: string): { name: string; driver: string }[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const comma = line.lastIndexOf(',');
      return { name: line.slice(0, comma).trim(), driver: line.slice(comma + 1).trim() };
    });
}

/** The "CUDA Version: 12.4" of nvidia-smi's banner: the newest CUDA the driver supports. */
export const parseDriverCuda = (text: string): string | undefined => /CUDA Version:\s*([\d.]+)/.exec(text)?.[1];

/** Library file name → path, from `ldconfig -p` lines such as `\tlibcudart.so.11.0 (libc6,x86-64) => /usr/lib/libcudart.so.11.0`. */
export function parseLdconfig(text: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)/.exec(line);
    // 64-bit entries say so (`libc6,x86-64`, `libc6,AArch64`); a bare `libc6` is a 32-bit library.
    if (match && !found.has(match[1]!) && /64/.test(match[2]!)) found.set(match[1]!, match[3]!);
  }
  return found;
}

/** Every file in the folders, by name (first folder wins), skipping folders that cannot be read. */
function filesIn(folders: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const folder of folders) {
    let names: string[];
    try {
      names = fs.readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) if (!found.has(name)) found.set(name, path.join(folder, name));
  }
  return found;
}

/** Where CUDA toolkits usually sit off the search path, on Linux. */
function cudaFolders(): string[] {
  try {
    return fs
      .readdirSync('/usr/local')
      .filter((name) => /^cuda/.test(name))
      .flatMap((name) => [path.join('/usr/local', name, 'lib64'), path.join('/usr/local', name, 'targets/x86_64-linux/lib')]);
  } catch {
    return [];
  }
}

/** Whether a package resolves from here, without loading it. */
export function packageInstalled(name: string): boolean {
  try {
    require.resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads the facts on this machine. `loadError` is the message loading the GPU package threw,
 * when the caller tried.
 */
export async function gatherGpuFacts(loadError?: string): Promise<GpuFacts> {
  const windows = process.platform === 'win32';
  const [list, banner, ldconfig] = await Promise.all([
    run('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader']),
    run('nvidia-smi', []),
    windows ? Promise.resolve({ stdout: '', missing: true }) : run('ldconfig', ['-p']),
  ]);
  const searchPath = (windows ? process.env['PATH'] : process.env['LD_LIBRARY_PATH'])?.split(path.delimiter).filter((p) => p.length > 0) ?? [];
  // The loader looks in LD_LIBRARY_PATH before its cache, so those folders win.
  const onPath = parseLdconfig(ldconfig.stdout);
  for (const [name, file] of filesIn(searchPath)) onPath.set(name, file);
  const offPath = windows ? new Map<string, string>() : filesIn(cudaFolders());
  const required = REQUIRED_LIBRARIES[windows ? 'win32' : 'linux'].map((lib) => lib.file);
  const libraries: Record<string, string> = {};
  const elsewhere: Record<string, string> = {};
  for (const file of required) {
    const found = onPath.get(file);
    if (found !== undefined) libraries[file] = found;
    else if (offPath.has(file)) elsewhere[file] = offPath.get(file)!;
  }
  const versions = (pattern: RegExp): string[] => [...new Set([...onPath.keys()].map((name) => pattern.exec(name)?.[1]).filter((v): v is string => v !== undefined))].sort();
  const smi: GpuFacts['nvidiaSmi'] = list.missing
    ? undefined
    : { gpus: list.error === undefined ? parseGpuList(list.stdout) : [], ...(parseDriverCuda(banner.stdout) ? { cuda: parseDriverCuda(banner.stdout)! } : {}), ...(list.error !== undefined ? { error: list.error } : {}) };
  return {
    platform: process.platform,
    arch: process.arch,
    gpuPackage: { installed: packageInstalled(GPU_PACKAGE), ...(loadError !== undefined ? { loadError } : {}) },
    ...(smi ? { nvidiaSmi: smi } : {}),
    libraries,
    elsewhere,
    cudaRuntimes: versions(windows ? /^cudart64_(\d{2})\d*\.dll$/i : /^libcudart\.so\.(\d+(?:\.\d+)?)$/),
    cudnnVersions: versions(windows ? /^cudnn64_(\d+)\.dll$/i : /^libcudnn\.so\.(\d+)$/),
  };
}
