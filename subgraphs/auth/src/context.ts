import type { Viewer } from '@orderflow/common/server';
import type { AccountService } from './service/account-service.ts';

export interface AuthContext {
  viewer: Viewer | null;
  accounts: AccountService;
  /** The end client's address as the gateway saw it (addressKey: '-' when not given). */
  clientAddress: string;
}
