// The desktop shell: one window on the backend's UI, a tray with Stop all.
// Thin on purpose: no native modules, nothing from sandbox/; the backend
// (system Node) does the work and keeps sessions running when the window
// closes. Quit stops the backend we started (and, verified, its sessions).
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, session, Tray } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendPost, freshLogin, startBackend, type StartedBackend } from './backend.js';
import { guardContents, isBackendUrl } from './guards.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const appRoot = path.resolve(here, '..', '..');
// A 16x16 dot, so the tray shows something without shipping an icon file.
const TRAY_ICON =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAaElEQVR42mPQj77MQAnGJcEJxMFAXAXFwVAxogwAafgCxP/R8BeoHF4DFmHRiI4X4TKgigjNMFyFbgAnDmfjwl9gYQIzIJgEzTAcjGxAFRkGVFHVAIq9QHEgUhyNVElIVEnKVMlMJGEA+yzhSLRyDJ4AAAAASUVORK5CYII=';

let backend: StartedBackend | undefined;
let win: BrowserWindow | undefined;
let tray: Tray | undefined;
let quitting = false;

async function openWindow(): Promise<void> {
  if (!backend) return;
  if (win) {
    win.show();
    win.focus();
    return;
  }
  const info = backend.info;
  win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'personae',
    show: false,
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
      preload: path.join(here, 'preload.cjs'),
    },
  });
  guardContents(win.webContents, info.url);
  win.once('ready-to-show', () => win?.show());
  win.on('close', (e) => {
    // Closing the window leaves the app (and its sessions) running in the tray.
    if (!quitting) {
      e.preventDefault();
      win?.hide();
    }
  });
  win.on('closed', () => {
    win = undefined;
  });
  await win.loadURL(await freshLogin(info).catch(() => info.login));
}

function buildTray(): void {
  tray = new Tray(nativeImage.createFromDataURL(TRAY_ICON));
  tray.setToolTip('personae');
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Open personae', click: () => void openWindow() },
      {
        label: 'Stop all sessions',
        click: () => {
          if (backend) void backendPost(backend.info, '/api/sessions/stop-all').catch((e: Error) => dialog.showErrorBox('personae', `Stop all failed: ${e.message}`));
        },
      },
      { type: 'separator' },
      { label: 'Quit (stops the sessions this app started)', click: () => app.quit() },
    ]),
  );
}

function setUp(): void {
  const info = backend?.info;
  if (!info) return;
  // The preload asks once, synchronously, where the backend is.
  ipcMain.on('personae:backend', (e) => {
    const url = e.senderFrame?.url ?? '';
    e.returnValue = isBackendUrl(url, info.url) ? { backendUrl: info.url, token: info.token } : null;
  });
  session.defaultSession.setPermissionRequestHandler((wc, permission, done) => done(permission === 'notifications' && isBackendUrl(wc.getURL(), info.url)));
  session.defaultSession.webRequest.onHeadersReceived((details, done) => {
    const headers = { ...details.responseHeaders };
    if (isBackendUrl(details.url, info.url) && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-security-policy')) {
      headers['Content-Security-Policy'] = ["default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:"];
    }
    done({ responseHeaders: headers });
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => void openWindow());
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-attach-webview', (ev) => ev.preventDefault());
  });
  app.on('window-all-closed', () => {
    // Stay in the tray: sessions may run overnight.
  });
  app.on('before-quit', () => {
    quitting = true;
    backend?.child?.kill('SIGTERM');
  });
  void app.whenReady().then(async () => {
    try {
      backend = await startBackend(appRoot);
    } catch (e) {
      dialog.showErrorBox('personae', `Cannot start the backend: ${(e as Error).message}`);
      app.exit(1);
      return;
    }
    backend.child?.once('exit', () => {
      if (!quitting) dialog.showErrorBox('personae', 'The backend stopped; the app will close.');
      app.exit(0);
    });
    setUp();
    buildTray();
    await openWindow();
  });
}
