import { defineConfig } from 'vite';

// The client is served by the confab binary at "/" and at each workspace's
// "/w/<id>/" (web/web.go embeds dist/). Asset URLs are relative ('./'), to
// index.html's <base href>, which the server sets to the base path it serves
// the page under (src/base.ts). `npm run dev` proxies the API to a confab
// server on localhost:8080.
export default defineConfig({
  base: './',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    // dist/ is emptied on each build; public/.gitkeep is copied back, so
    // dist/.gitkeep (which go:embed needs before the first build) survives.
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/auth': 'http://localhost:8080',
      '/graphql': { target: 'http://localhost:8080', ws: true },
      '/healthz': 'http://localhost:8080',
      '/blobs': 'http://localhost:8080', // the disk engine's file links
      '^/w/[^/]+/(auth|graphql|blobs)': { target: 'http://localhost:8080', ws: true }, // a workspace's
    },
  },
});
