// Navigation and window guards: the window shows the backend's UI and
// nothing else; no new windows, no navigation away, no webviews.
import type { WebContents } from 'electron';

export function isBackendUrl(url: string, backendUrl: string): boolean {
  try {
    return new URL(url).origin === new URL(backendUrl).origin;
  } catch {
    return false;
  }
}

export function guardContents(contents: WebContents, backendUrl: string): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (e, url) => {
    if (!isBackendUrl(url, backendUrl)) e.preventDefault();
  });
  contents.on('will-redirect', (e, url) => {
    if (!isBackendUrl(url, backendUrl)) e.preventDefault();
  });
}
