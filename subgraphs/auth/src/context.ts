import type { Viewer } from '@orderflow/common';

export interface AuthContext {
  viewer: Viewer | null;
}
