import type { DashboardOptions } from '../config.js';
import { DsnError } from '../errors.js';
import type { Dashboard, DSNodeServer } from '../server.js';

/** Placeholder until the dashboard lands. */
export async function startDashboard(_server: DSNodeServer, _opts: Required<DashboardOptions>): Promise<Dashboard> {
  throw new DsnError('DSN_ERR_INTERNAL', 'the dashboard is not built yet');
}
