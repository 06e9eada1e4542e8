// Drift: the same failing call again and again (probing paths that do not
// exist, retrying a denied call). Counted per identical call.

export interface DriftVerdict {
  readonly count: number;
  /** True exactly when the count reaches the threshold (and again at each multiple). */
  readonly crossed: boolean;
}

export class DriftTracker {
  private readonly failures = new Map<string, number>();

  constructor(private readonly threshold: number) {}

  static key(tool: string, input: unknown): string {
    return `${tool}\u0000${stableJson(input)}`;
  }

  failed(key: string): DriftVerdict {
    const count = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, count);
    if (this.failures.size > 10_000) this.failures.clear();
    return { count, crossed: count % this.threshold === 0 };
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }
}

function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
    .join(',')}}`;
}
