import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { DefaultsSchema, routes } from '../main/api/contract.js';
import { ApiError, apiGet } from './api/client.js';
import { stream } from './api/stream.js';
import { App } from './app.js';
import { SignIn } from './sign-in.js';
import './styles.css';

const root = document.getElementById('root');
// Not signed in (401): the sign-in screen, and no stream. Anything else: the app (it shows its connection).
const signedIn = apiGet(routes.defaults, DefaultsSchema).then(
  () => true,
  (e: unknown) => !(e instanceof ApiError && e.status === 401),
);
void signedIn.then((ok) => {
  if (ok) stream.start();
  if (root) createRoot(root).render(<StrictMode>{ok ? <App /> : <SignIn />}</StrictMode>);
});
