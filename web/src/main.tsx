import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/app';
import { captureTokenFromFragment, restartOnNewLink } from './lib/session';
import './styles/app.css';

// Before anything renders: move `#token=…` into sessionStorage and out of the address bar.
captureTokenFromFragment(window.location, window.history, window.sessionStorage);
// A new link pasted into this tab later: start again with its token.
restartOnNewLink(window);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
