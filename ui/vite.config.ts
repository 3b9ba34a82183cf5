// Vite builds the app into one index.html and hashed /assets/* files, which the
// server serves from the binary's ui/ folder (src/api/static_files.*). Vitest runs
// the unit tests of the data transforms (src/lib/*.test.ts) in Node.
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: {
    // `npm run dev` proxies the API to a local server (SIGHTLINE_DEV_API to change it).
    proxy: { '/api': process.env.SIGHTLINE_DEV_API || 'http://127.0.0.1:4318' },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
