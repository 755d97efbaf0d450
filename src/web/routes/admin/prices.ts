import type { Router } from 'express';
import type { AdminDependencies } from './index.js';

export function registerPriceRoutes(_router: Router, _deps: AdminDependencies): void {}
