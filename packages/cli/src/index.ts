// Public API of @sage/cli (L6): the `sage` command, usable programmatically (e.g. run(['inference', 'status'])).
export { run, buildProgram } from './program';
export { ExitCode, CliError } from './errors';
export { sageHome, type SageHome } from './home';
export { sageConfigSchema, resolveConfig, enginePortRanges, CONFIG_KEYS, type SageConfig } from './config';
export { ApiClient, resolveApiBase, DEFAULT_API_BASE, type Health } from './api';
export { formatLogLine } from './output';
export { findGatewayBin } from './commands/gateway';
