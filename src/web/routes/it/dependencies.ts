import type { Database } from '../../../db/database.js';
import type { UploadStore } from '../../../services/branding/records.js';
import type { Clock } from '../../../domain/time/clock.js';
import type { ThemeService } from '../../../services/branding/theme-service.js';

/** What the IT pages are built from: its own module, so that the pages and the router that mounts them do not import each other. */
export interface ItDependencies {
  db: Database;
  clock: Clock;
  themes: ThemeService;
  uploads: UploadStore;
}
