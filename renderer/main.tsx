import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { stream } from './api/stream.js';
import { App } from './app.js';
import './styles.css';

stream.start();
const root = document.getElementById('root');
if (root) createRoot(root).render(<StrictMode><App /></StrictMode>);
