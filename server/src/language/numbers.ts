/** Number formatting shared by hovers, hints, summaries and the CLI, so they always agree. */

/** 102785482 → "102.8M", 896 → "896", 18496 → "18.5K". */
export function compact(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, suffix] of units) {
    if (Math.abs(n) >= size) return `${(n / size).toFixed(1).replace(/\.0$/, '')}${suffix}`;
  }
  return String(Math.round(n));
}

/** Bytes in binary units: 6422528 → "6.1 MiB". */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** 102785482 → "102,785,482". */
export const groupDigits = (n: number): string => Math.round(n).toLocaleString('en-US');
