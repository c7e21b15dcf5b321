import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The call desk page: built into web/dist, which the service serves at /. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Everything in the bundle: the page must work without any outside network.
    assetsInlineLimit: 0,
  },
  // `npm run dev:web` next to `npm start`: the page with hot reload, the API from the service.
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
