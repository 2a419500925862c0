// One pino logger for the package. Quiet under jest and when SAGE_LOG_LEVEL says so; info otherwise. An unknown
// SAGE_LOG_LEVEL is ignored here (importing the package must not throw): the programs that read it report it.
import pino from 'pino';

const fromEnv = process.env.SAGE_LOG_LEVEL?.trim().toLowerCase();
const known = fromEnv !== undefined && (fromEnv === 'silent' || fromEnv in pino.levels.values);
const level = known ? fromEnv : process.env.JEST_WORKER_ID !== undefined ? 'silent' : 'info';

export const logger = pino({ name: 'sage-common', level });
