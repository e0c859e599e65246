import { defineConfig } from 'vite';

// The build goes straight into the Python package, which serves it from the same origin as the API.
// `npm run dev` proxies the API and the tracker to a local `medama start` (MEDAMA_URL, default :8080).
const server = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.MEDAMA_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../medama_py/static/dashboard',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2020',
    sourcemap: false,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/api': server,
      '/script.js': server,
      '/scripts': server,
    },
  },
});
