// The preload: exposes only where the backend is and its token, read once
// from the main process. No generic IPC reaches the page.
// A sandboxed preload must be CommonJS: no ESM import here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import electron = require('electron');

const { contextBridge, ipcRenderer } = electron;

const backend = ipcRenderer.sendSync('personae:backend') as { backendUrl: string; token: string } | null;
if (backend) contextBridge.exposeInMainWorld('personae', Object.freeze({ backendUrl: backend.backendUrl, token: backend.token }));
