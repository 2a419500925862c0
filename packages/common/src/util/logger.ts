// One pino logger for the package. Quiet under jest and when SAGE_LOG_LEVEL says so; info otherwise.
import pino from 'pino';

const level = process.env.SAGE_LOG_LEVEL ?? (process.env.JEST_WORKER_ID !== undefined ? 'silent' : 'info');

export const logger = pino({ name: 'sage-common', level });
