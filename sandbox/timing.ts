// `PERSONAE_DEBUG=timing` prints how long each start-up phase took (stderr).
const enabled = process.env.PERSONAE_DEBUG?.split(',').includes('timing') ?? false;
const t0 = performance.timeOrigin;

export function mark(label: string): void {
  if (enabled) process.stderr.write(`personae[timing] ${(performance.now()).toFixed(1)}ms ${label}\n`);
}

if (enabled) process.once('exit', () => mark(`exit (rss ${process.memoryUsage().rss >> 20} MB, heap ${process.memoryUsage().heapUsed >> 20} MB)`));

export const timingEnabled = enabled && t0 > 0;

