import { defineConfig } from 'vite';

/**
 * Where `npm run dev` forwards the gateway's routes. The app calls its own
 * origin by default, and the gateway sends no CORS headers, so the dev
 * server proxies /graphql (WebSockets included), /oauth and /.well-known to
 * a running gateway. Default: http://127.0.0.1:4000, the gateway of
 * `npm start`.
 */
const gatewayUrl = process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000';

export default defineConfig({
  // No React plugin: Vite's own transform (oxc) compiles JSX with the
  // automatic runtime, which is all the build needs; in dev, an edit reloads
  // the page instead of hot-swapping components.
  oxc: { jsx: { runtime: 'automatic' } },
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    port: 5173,
    strictPort: false,
    proxy: {
      '/graphql': { target: gatewayUrl, ws: true },
      '/oauth': { target: gatewayUrl },
      '/.well-known': { target: gatewayUrl },
    },
  },
});
