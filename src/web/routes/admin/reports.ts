import type { Router } from 'express';
import type { AdminDependencies } from './index.js';

export function registerReportRoutes(_router: Router, _deps: AdminDependencies): void {}
