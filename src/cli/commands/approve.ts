import { decisionCommand } from '../decision.js';

export const approveCommand = decisionCommand('approve');
