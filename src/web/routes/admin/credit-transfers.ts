import type { Router } from 'express';
import type { AdminDependencies } from './dependencies.js';

/** STUB — being written: the transfers to the print system (list, one transfer's history, an admin's decision) and the connector's health. */
export function registerCreditTransferRoutes(_router: Router, _deps: AdminDependencies): void {}
