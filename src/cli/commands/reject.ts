import { decisionCommand } from '../decision.js';

export const rejectCommand = decisionCommand('reject');
