// `personae serve` and `personae app` (`npm start`). Owned by the desktop-app work.
import { fail } from './output.js';

export function serveCommand(_opts: { port: string }): Promise<number> {
  return Promise.resolve(fail('the backend is not built yet', 1));
}

export function appCommand(): Promise<number> {
  return Promise.resolve(fail('the desktop app is not built yet', 1));
}
