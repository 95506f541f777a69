/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The gateway's origin (e.g. http://localhost:4000). Unset: the page's own origin. */
  readonly VITE_GATEWAY_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
